/**
 * Node peers for the mTLS interop tests, built only from @signet/spiffe's public TLS helpers:
 * a line-echo server (createMtlsServer) and a one-line client (mtlsClientOptions). Each reports
 * what happened instead of throwing, so tests can assert on refusals as well as successes.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, type Server, type TLSSocket } from "node:tls";
import { type Authorizer, createMtlsServer, mtlsClientOptions, peerSpiffeId, type X509Source } from "@signet/spiffe";

export interface ServerEvent {
  readonly event: "echoed" | "refused";
  readonly peerId?: string;
  readonly peerSerial?: string;
  readonly received?: string;
  readonly error?: string;
}

export interface EchoServer {
  readonly port: number;
  readonly server: Server;
  /** One entry per connection, in order. */
  readonly events: ServerEvent[];
  /** Resolves with the next event after this call. */
  nextEvent(): Promise<ServerEvent>;
  close(): Promise<void>;
}

/** Echoes every line back as `<prefix>:<line>` to clients that pass `authorizer`. */
export async function startEchoServer(source: X509Source, authorizer: Authorizer, prefix: string): Promise<EchoServer> {
  const events: ServerEvent[] = [];
  let waiters: ((e: ServerEvent) => void)[] = [];
  const record = (e: ServerEvent) => {
    events.push(e);
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve(e);
  };
  const sockets = new Set<TLSSocket>();
  const server = createMtlsServer(source, authorizer, {}, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const peer = socket.getPeerX509Certificate();
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        socket.write(`${prefix}:${line}\n`);
        record({ event: "echoed", peerId: peerSpiffeId(socket)?.toString() ?? "", peerSerial: peer ? serialHex(peer.serialNumber) : "", received: line });
      }
    });
  });
  server.on("tlsClientError", (err: Error) => record({ event: "refused", error: err.message }));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    server,
    events,
    nextEvent: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface DialResult {
  readonly ok: boolean;
  readonly serverId?: string;
  readonly serverSerial?: string;
  readonly reply?: string;
  readonly error?: string;
}

/**
 * Connects with the source's current SVID, accepts the server only if `authorizer` does, sends
 * `msg` and waits for one line back.
 */
export function dialOnce(port: number, source: X509Source, authorizer: Authorizer, msg: string, timeoutMs = 10_000): Promise<DialResult> {
  return new Promise((resolve) => {
    let settled = false;
    let serverId: string | undefined;
    let serverSerial: string | undefined;
    const done = (r: DialResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, ...(serverId ? { serverId } : {}), ...(serverSerial ? { serverSerial } : {}) });
    };
    const socket = connect({ host: "127.0.0.1", port, ...mtlsClientOptions(source, authorizer) });
    const timer = setTimeout(() => done({ ok: false, error: "timed out" }), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("secureConnect", () => {
      serverId = peerSpiffeId(socket)?.toString();
      const leaf = socket.getPeerX509Certificate();
      serverSerial = leaf ? serialHex(leaf.serialNumber) : undefined;
      socket.write(`${msg}\n`);
    });
    let buffered = "";
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const i = buffered.indexOf("\n");
      if (i >= 0) done({ ok: true, reply: buffered.slice(0, i) });
    });
    socket.on("error", (err) => done({ ok: false, error: err.message }));
    socket.on("close", () => done({ ok: false, error: "closed before a reply" }));
  });
}

/** A certificate serial as lower-case hex without leading zeros (Go's SerialNumber.Text(16)). */
export function serialHex(serialNumber: string): string {
  return BigInt(`0x${serialNumber}`).toString(16);
}
