/**
 * TLS servers that always present the current X509-SVID (the secure context is swapped on every
 * source update, so the next handshake uses a rotated certificate) and, for mutual TLS, let
 * through only clients whose X509-SVID verifies against their trust domain's bundle and passes
 * the authorizer.
 */
import { createServer, type Server, type TLSSocket, type TlsOptions } from "node:tls";
import type { X509BundleSetSource } from "../x509bundle/index.js";
import type { X509SvidSource } from "../x509svid/index.js";
import type { Authorizer } from "./authorizer.js";
import { mtlsServerOptions, tlsServerOptions } from "./options.js";
import { authorizePeer } from "./peer.js";

/** What a server needs from a source: an SVID, the bundles, and (to follow rotation) subscribe. */
export interface SpiffeServerSource extends X509SvidSource, X509BundleSetSource {
  subscribe?(listener: () => void): () => void;
}

/**
 * A TLS server presenting the source's current X509-SVID, clients unauthenticated.
 * `options` may add anything but key/cert (ALPN, ciphers, timeouts…).
 */
export function createTlsServer(source: SpiffeServerSource, options: TlsOptions = {}, listener?: (socket: TLSSocket) => void): Server {
  return serve(source, undefined, options, listener);
}

/**
 * A mutual-TLS server: `listener` (and the 'secureConnection' listeners added later) only see
 * clients that passed `authorizer`; refused ones are closed and reported through the server's
 * 'tlsClientError' event. peerSpiffeId(socket) gives the client's ID.
 */
export function createMtlsServer(
  source: SpiffeServerSource,
  authorizer: Authorizer,
  options: TlsOptions = {},
  listener?: (socket: TLSSocket) => void,
): Server {
  return serve(source, authorizer, options, listener);
}

/**
 * Makes an existing tls/https/http2 server follow `source`: on every update its secure context
 * is rebuilt from the current SVID and bundles (plus `options`); with an `authorizer`, each
 * client is verified right after its handshake, before other 'secureConnection' listeners run,
 * and destroyed (reported as 'tlsClientError') when refused. Returns the detach function;
 * closing the server detaches too.
 */
export function attachSpiffeServer(server: Server, source: SpiffeServerSource, authorizer?: Authorizer, options: TlsOptions = {}): () => void {
  const unsubscribe = source.subscribe?.(() => {
    try {
      server.setSecureContext(serverOptions(source, authorizer, options));
    } catch (err) {
      // Keep serving the previous context; listeners of "secureContextError" hear why.
      server.emit("secureContextError", err as Error);
    }
  });
  const check = (socket: TLSSocket) => {
    if (!authorizer) return;
    try {
      authorizePeer(socket, source, authorizer);
    } catch (err) {
      socket.destroy();
      server.emit("tlsClientError", err as Error, socket);
    }
  };
  server.prependListener("secureConnection", check);
  const detach = () => {
    unsubscribe?.();
    server.removeListener("secureConnection", check);
    server.removeListener("close", detach);
  };
  server.once("close", detach);
  return detach;
}

function serve(source: SpiffeServerSource, authorizer: Authorizer | undefined, options: TlsOptions, listener?: (socket: TLSSocket) => void): Server {
  const server = createServer(serverOptions(source, authorizer, options));
  if (listener) {
    server.on("secureConnection", (socket: TLSSocket) => {
      if (!socket.destroyed) listener(socket);
    });
  }
  attachSpiffeServer(server, source, authorizer, options);
  return server;
}

function serverOptions(source: SpiffeServerSource, authorizer: Authorizer | undefined, options: TlsOptions): TlsOptions {
  return { ...options, ...(authorizer ? mtlsServerOptions(source) : tlsServerOptions(source)) };
}
