/**
 * The peer of a TLS connection as a SPIFFE identity: its presented chain, go-spiffe's
 * verification against the bundle of its trust domain, the authorizer, and the ID it proved.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from "node:tls";
import type { SpiffeId } from "../id/index.js";
import type { X509BundleSource } from "../x509bundle/index.js";
import { spiffeIdOfLeaf, verifyX509Svid } from "../x509svid/index.js";
import type { Authorizer } from "./authorizer.js";

const verifiedPeers = new WeakMap<TLSSocket, SpiffeId>();

/**
 * Verifies the peer of `socket` (after its handshake) and runs `authorizer`; returns its ID and
 * remembers it for peerSpiffeId(). Throws X509SvidError or the authorizer's error.
 */
export function authorizePeer(socket: TLSSocket, bundles: X509BundleSource, authorizer: Authorizer): SpiffeId {
  const id = authorizeChain(peerChainOf(socket.getPeerCertificate(true)), bundles, authorizer);
  verifiedPeers.set(socket, id);
  return id;
}

/**
 * The SPIFFE ID the peer proved: recorded by authorizePeer() (server sockets of createMtlsServer
 * or attachSpiffeServer), or on a client socket connected with our options, read from the
 * peer's leaf once the handshake succeeded (our checkServerIdentity verified it). Undefined
 * for unauthenticated peers.
 */
export function peerSpiffeId(socket: TLSSocket): SpiffeId | undefined {
  const recorded = verifiedPeers.get(socket);
  if (recorded) return recorded;
  if (isServerSide(socket) || !socket.authorized) return undefined;
  // Not getPeerX509Certificate(): on Node 20.20 it leaves the socket without a peer
  // certificate for every later call (getPeerCertificate included).
  const raw = socket.getPeerCertificate().raw;
  if (!raw) return undefined;
  try {
    return spiffeIdOfLeaf(new X509Certificate(raw));
  } catch {
    return undefined;
  }
}

/** go-spiffe's verifyPeerCertificate: x509svid.Verify, then the authorizer on the verified chains. */
export function authorizeChain(chain: readonly X509Certificate[], bundles: X509BundleSource, authorizer: Authorizer): SpiffeId {
  const { spiffeId, verifiedChains } = verifyX509Svid(chain, bundles);
  authorizer(spiffeId, verifiedChains);
  return spiffeId;
}

/**
 * The certificates a peer presented, leaf first, from Node's detailed peer certificate (whose
 * issuer links may end in a root from the local trust store; extra certificates are harmless,
 * the chain is rebuilt against the right bundle).
 */
export function peerChainOf(peer: PeerCertificate | DetailedPeerCertificate | undefined): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert = peer as DetailedPeerCertificate | undefined;
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return out;
}

function isServerSide(socket: TLSSocket): boolean {
  return (socket as TLSSocket & { server?: unknown }).server !== undefined;
}
