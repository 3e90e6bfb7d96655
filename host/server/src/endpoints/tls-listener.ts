/**
 * The TCP endpoint's TLS layer. grpc-js's own secure credentials cannot
 * request a client certificate without requiring it, so Signet terminates
 * TLS itself with a node:tls server (request but do not require a client
 * certificate, TLS >= 1.2, ALPN h2, no session resumption, the current
 * server SVID read before every handshake) and hands each finished
 * connection to grpc-js through a connection injector. The peer's
 * certificates are kept per connection and found again per call from the
 * call's connection addresses (see ConnectionRegistry).
 */
import { type KeyObject, X509Certificate, constants as cryptoConstants } from "node:crypto";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor } from "@grpc/grpc-js";
import { ServerInterceptingCall } from "@grpc/grpc-js";
import type { ServerSvidSource, ServerSvidState } from "./svid-source.js";

/** What the TLS layer learned about one TCP connection. */
export interface PeerConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** What the client presented, leaf first; empty when it sent no certificate. */
  readonly peerChain: readonly X509Certificate[];
}

/**
 * Live TCP connections by their four addresses, and the link from each
 * call's request metadata to its connection (set by a grpc-js server
 * interceptor, which sees the call's connection addresses).
 */
export class ConnectionRegistry {
  private readonly byAddress = new Map<string, PeerConnection>();
  private readonly byMetadata = new WeakMap<Metadata, PeerConnection>();

  add(socket: tls.TLSSocket): PeerConnection | undefined {
    const key = keyOf(socket.localAddress, socket.localPort, socket.remoteAddress, socket.remotePort);
    if (!key || !socket.remoteAddress || socket.remotePort === undefined) return undefined;
    const conn: PeerConnection = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, peerChain: peerChainOf(socket) };
    this.byAddress.set(key, conn);
    socket.once("close", () => {
      if (this.byAddress.get(key) === conn) this.byAddress.delete(key);
    });
    return conn;
  }

  get size(): number {
    return this.byAddress.size;
  }

  /** The connection a call arrived on, found from its request metadata. */
  connectionOf(metadata: Metadata): PeerConnection | undefined {
    return this.byMetadata.get(metadata);
  }

  /** The grpc-js interceptor that links each call's metadata to its connection. */
  readonly interceptor: ServerInterceptor = (_method, call: ServerInterceptingCallInterface) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, forward) => {
            const info = call.getConnectionInfo();
            const key = keyOf(info.localAddress ?? undefined, info.localPort ?? undefined, info.remoteAddress ?? undefined, info.remotePort ?? undefined);
            const conn = key ? this.byAddress.get(key) : undefined;
            if (conn) this.byMetadata.set(metadata, conn);
            forward(metadata);
          },
        });
      },
    });
}

function keyOf(localAddress: string | undefined, localPort: number | undefined, remoteAddress: string | undefined, remotePort: number | undefined): string | undefined {
  if (!localAddress || localPort === undefined || !remoteAddress || remotePort === undefined) return undefined;
  return `${localAddress}|${localPort}|${remoteAddress}|${remotePort}`;
}

/** The client's certificates: the leaf, then what it sent that chains to it (Node links them by issuer). */
function peerChainOf(socket: tls.TLSSocket): X509Certificate[] {
  const detailed = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  if (!detailed?.raw) return [];
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: tls.DetailedPeerCertificate | undefined = detailed;
  while (cur?.raw && chain.length < 16) {
    const fp = cur.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    chain.push(new X509Certificate(cur.raw));
    cur = cur.issuerCertificate;
  }
  return chain;
}

export interface TlsListenerOptions {
  readonly svid: ServerSvidSource;
  readonly registry: ConnectionRegistry;
  /** Receives every connection whose handshake finished with ALPN h2. */
  readonly onConnection: (socket: tls.TLSSocket) => void;
  readonly onError?: (message: string, err: unknown) => void;
  readonly handshakeTimeoutMs?: number;
}

/** A node:tls server configured as SPIRE's TCP endpoint. */
export function createTlsListener(options: TlsListenerOptions): tls.Server {
  let served: ServerSvidState | undefined;
  let leafDer: Buffer | undefined;
  let keyObject: KeyObject | undefined;
  const server = tls.createServer({
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ["h2"],
    minVersion: "TLSv1.2",
    // No tickets and no session cache: every connection runs a full handshake
    // and is verified against the current bundle.
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
    handshakeTimeout: options.handshakeTimeoutMs ?? 120_000,
  });
  // Runs before node:tls wraps the socket, so the context set here is the one
  // this very handshake uses.
  server.prependListener("connection", (socket: Socket) => {
    let state: ServerSvidState;
    try {
      state = options.svid.current();
    } catch (err) {
      options.onError?.("Server SVID unavailable; dropping connection", err);
      socket.destroy();
      return;
    }
    if (state === served) return;
    const leaf = state.certChain[0];
    if (!leaf) {
      options.onError?.("Server SVID has no certificate; dropping connection", undefined);
      socket.destroy();
      return;
    }
    if (leafDer?.equals(leaf) && keyObject === state.privateKey) {
      served = state;
      return;
    }
    try {
      server.setSecureContext({
        cert: state.certChain.map((der) => new X509Certificate(der).toString()).join(""),
        key: state.privateKey.export({ type: "pkcs8", format: "pem" }),
        minVersion: "TLSv1.2",
        secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
      });
      served = state;
      leafDer = Buffer.from(leaf);
      keyObject = state.privateKey;
    } catch (err) {
      options.onError?.("Unusable server SVID; dropping connection", err);
      socket.destroy();
    }
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    socket.on("error", () => {});
    if (socket.alpnProtocol !== "h2") {
      socket.destroy();
      return;
    }
    if (!options.registry.add(socket)) {
      socket.destroy();
      return;
    }
    options.onConnection(socket);
  });
  server.on("tlsClientError", () => {
    // A failed handshake only concerns that client.
  });
  return server;
}
