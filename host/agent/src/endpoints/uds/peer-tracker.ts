/**
 * Which process is behind each call on a Unix-socket gRPC server. grpc-js
 * tells an interceptor only a call's connection addresses, and a Unix
 * socket has none, so every tracked socket is given a synthetic remote
 * address (this tracker's own address and a port unique to the socket)
 * before grpc-js sees it; the interceptor finds the connection from those
 * and links the call's request metadata to the peer read at accept.
 *
 * A call whose connection is not tracked is refused with SPIRE's Internal
 * "peer tracker watcher missing from context": it is never served under a
 * guessed identity.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { Metadata, type ServerInterceptingCallInterface, type ServerInterceptor, ServerInterceptingCall, status } from "@grpc/grpc-js";
import type { PeerProcess } from "../peer/index.js";

export const peerTrackerMissing = "peer tracker watcher missing from context";

export class PeerTracker {
  /** Synthetic remote address shared by this tracker's sockets; ports tell them apart. */
  private readonly address = `signet-peer-${randomUUID()}`;
  private readonly byPort = new Map<number, PeerProcess>();
  private readonly byMetadata = new WeakMap<Metadata, PeerProcess>();
  private nextPort = 1;

  /**
   * Tracks a socket's peer until the socket closes, then releases the peer.
   * Call before handing the socket to grpc-js.
   */
  track(socket: Socket, peer: PeerProcess): void {
    const port = this.nextPort++;
    // Own properties shadow net.Socket's getters; http2's session.socket
    // proxy reads through to them.
    Object.defineProperty(socket, "remoteAddress", { value: this.address, configurable: true });
    Object.defineProperty(socket, "remotePort", { value: port, configurable: true });
    this.byPort.set(port, peer);
    socket.once("close", () => this.release(port));
    if (socket.destroyed) this.release(port);
  }

  /** The peer of the connection a call arrived on, from the call's request metadata. */
  connectionOf(metadata: Metadata): PeerProcess | undefined {
    return this.byMetadata.get(metadata);
  }

  /** Live tracked connections. */
  get size(): number {
    return this.byPort.size;
  }

  /** Releases every peer (server shutdown). */
  releaseAll(): void {
    for (const port of [...this.byPort.keys()]) this.release(port);
  }

  /**
   * The grpc-js interceptor linking each call's metadata to its peer. Put it
   * first in the server's interceptor list (the innermost one), so the
   * metadata it records is the very object the handler receives.
   */
  readonly interceptor: ServerInterceptor = (_method, call: ServerInterceptingCallInterface) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, forward) => {
            const peer = this.peerOf(call);
            if (!peer) {
              call.sendStatus({ code: status.INTERNAL, details: peerTrackerMissing, metadata: new Metadata() });
              return;
            }
            this.byMetadata.set(metadata, peer);
            forward(metadata);
          },
        });
      },
    });

  private peerOf(call: ServerInterceptingCallInterface): PeerProcess | undefined {
    const info = call.getConnectionInfo();
    if (info.remoteAddress !== this.address || info.remotePort === undefined) return undefined;
    return this.byPort.get(info.remotePort);
  }

  private release(port: number): void {
    const peer = this.byPort.get(port);
    if (!peer) return;
    this.byPort.delete(port);
    peer.close();
  }
}
