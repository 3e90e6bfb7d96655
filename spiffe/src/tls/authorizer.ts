/**
 * Who may be on the other end of a TLS connection, decided after the peer's X509-SVID has been
 * verified (go-spiffe's tlsconfig.Authorizer and its spiffeid matchers, with their messages).
 */
import type { X509Certificate } from "node:crypto";
import { SpiffeId, TrustDomain } from "../id/index.js";

/** Refusal of a verified peer by an authorizer. */
export class TlsAuthorizationError extends Error {
  override readonly name = "TlsAuthorizationError";
}

/**
 * Decides on a verified peer: returns to accept, throws (TlsAuthorizationError) to refuse.
 * `verifiedChains` run from the peer's leaf to an authority of its trust domain's bundle.
 */
export type Authorizer = (id: SpiffeId, verifiedChains: readonly (readonly X509Certificate[])[]) => void;

/** Any SPIFFE ID (the chain still has to verify against the bundle of the peer's trust domain). */
export function authorizeAny(): Authorizer {
  return () => {};
}

/** Exactly this SPIFFE ID. */
export function authorizeId(allowed: SpiffeId | string): Authorizer {
  return authorizeOneOf(allowed);
}

/** Any of these SPIFFE IDs. */
export function authorizeOneOf(...allowed: (SpiffeId | string)[]): Authorizer {
  const ids = new Set(allowed.map((id) => (typeof id === "string" ? SpiffeId.parse(id) : id).toString()));
  return (id) => {
    if (!ids.has(id.toString())) throw new TlsAuthorizationError(`unexpected ID "${id}"`);
  };
}

/** Any SPIFFE ID in this trust domain. */
export function authorizeMemberOf(trustDomain: TrustDomain | string): Authorizer {
  const td = typeof trustDomain === "string" ? TrustDomain.parse(trustDomain) : trustDomain;
  return (id) => {
    if (!id.memberOf(td)) throw new TlsAuthorizationError(`unexpected trust domain "${id.trustDomain}"`);
  };
}
