import type { KeyObject } from "node:crypto";

/** The server's own X509-SVID as the TCP endpoint serves it. */
export interface ServerSvidState {
  /** DER certificates, leaf first, then any intermediates up to (not including) a bundle root. */
  readonly certChain: readonly Buffer[];
  readonly privateKey: KeyObject;
}

/**
 * Where the TCP endpoint gets its certificate (the server SVID rotator in
 * svid/ implements it). Read at the start of every TLS handshake, so a
 * rotated SVID is served on the next connection.
 */
export interface ServerSvidSource {
  current(): ServerSvidState;
}
