/**
 * A gRPC server on a Unix socket that knows, for every call, which process
 * made it (SPIRE's peertracker listener). Signet accepts the connections
 * itself with a node:net server, reads each peer from the kernel at accept
 * (a connection whose peer cannot be read is dropped, as SPIRE's
 * "Connection failed during accept"), and hands the socket with its peer to
 * the gRPC server. Handlers find their caller with `tracker.connectionOf(ctx)`.
 *
 * The gRPC server is @signet/proto's H2Server (gRPC straight on node:http2),
 * not grpc-js's: per new connection and call it costs well under half the
 * CPU (bench/workload-api), and every Workload API client speaks to it the
 * same (go-spiffe's grpc-go, grpc-js, Envoy).
 */
import { type Server as NetServer, type Socket, createServer } from "node:net";
import { H2Server, type ServiceRegistration } from "@signet/proto";
import { type Logger, nullLogger } from "@signet/host-common";
import { type PeerProcess, readPeer as readKernelPeer } from "../peer/index.js";
import { PeerTracker } from "./peer-tracker.js";
import { prepareSocketPath, removeSocketFile, restrictSocket } from "@signet/host-common";

/** Why a connection's `closed` signal aborted. */
const connectionClosed = new Error("connection closed");

/** SPIRE's os.ModePerm for the public Workload API socket: any local process may call it. */
export const publicSocketMode = 0o777;

export interface UdsServerOptions {
  /** Absolute path of the socket file. */
  readonly path: string;
  /** Permissions set on the socket after binding; default 0o777 (the public Workload API socket). */
  readonly mode?: number;
  readonly services: readonly ServiceRegistration[];
  readonly log?: Logger;
  /** Seam for tests: how a connection's peer is read (default: from the kernel). */
  readonly readPeer?: (socket: Socket) => PeerProcess;
  /**
   * Told of each accepted connection's peer once it is tracked, before the
   * gRPC server sees the connection; `closed` aborts when the connection does.
   */
  readonly onConnection?: (peer: PeerProcess, closed: AbortSignal) => void;
}

export interface UdsServer {
  readonly path: string;
  readonly tracker: PeerTracker;
  /**
   * Stops accepting, ends every live connection and stream (as SPIRE's
   * server.Stop()), releases the peers and removes the socket file.
   */
  close(): Promise<void>;
}

export async function startUdsServer(options: UdsServerOptions): Promise<UdsServer> {
  const log = options.log ?? nullLogger;
  const readPeer = options.readPeer ?? readKernelPeer;
  const tracker = new PeerTracker();
  const grpcServer = new H2Server(options.services);

  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    socket.on("error", () => {
      // A broken connection only concerns its caller; the gRPC server sees the close.
    });
    let peer: PeerProcess;
    try {
      peer = readPeer(socket);
    } catch (err) {
      log.warn("Connection failed during accept", { error: err instanceof Error ? err.message : String(err) });
      socket.destroy();
      return;
    }
    tracker.track(socket, peer);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Told first, so work it starts for this peer (workload attestation) is under way before the HTTP/2 session's set-up.
    if (options.onConnection) {
      const closed = new AbortController();
      // A shared reason: abort() without one builds a DOMException (and its stack) per connection.
      socket.once("close", () => closed.abort(connectionClosed));
      options.onConnection(peer, closed.signal);
    }
    grpcServer.injectConnection(socket, peer);
  });

  await prepareSocketPath(options.path);
  await listen(listener, options.path);
  try {
    await restrictSocket(options.path, options.mode ?? publicSocketMode);
  } catch (err) {
    await closeListener(listener);
    await removeSocketFile(options.path);
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    path: options.path,
    tracker,
    close: () => {
      closing ??= (async () => {
        const stopped = closeListener(listener);
        grpcServer.forceShutdown();
        for (const socket of sockets) socket.destroy();
        await stopped;
        tracker.releaseAll();
        await removeSocketFile(options.path);
      })();
      return closing;
    },
  };
}

function listen(server: NetServer, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Resolves once the listener is closed and every connection it accepted has closed. */
function closeListener(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
