/**
 * Whether a fetched bundle differs from the stored one (go-spiffe's
 * spiffebundle.Equal as SPIRE's updater uses it): trust domain, refresh
 * hint, sequence number, X.509 authorities in order, and JWT/WIT keys by
 * key ID. Taint and expiry are server-side bookkeeping, not bundle content.
 */
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";

export function bundlesEqual(a: Bundle, b: Bundle): boolean {
  return (
    a.trustDomain === b.trustDomain &&
    a.refreshHint === b.refreshHint &&
    a.sequenceNumber === b.sequenceNumber &&
    a.x509Authorities.length === b.x509Authorities.length &&
    a.x509Authorities.every((x, i) => bytesEqual(x.asn1, b.x509Authorities[i]!.asn1)) &&
    keysEqual(a.jwtAuthorities, b.jwtAuthorities) &&
    keysEqual(a.witAuthorities, b.witAuthorities)
  );
}

function keysEqual(a: readonly JWTKey[], b: readonly JWTKey[]): boolean {
  const ma = new Map(a.map((k) => [k.keyId, k.publicKey]));
  const mb = new Map(b.map((k) => [k.keyId, k.publicKey]));
  if (ma.size !== mb.size) return false;
  for (const [id, key] of ma) {
    const other = mb.get(id);
    if (!other || !bytesEqual(other, key)) return false;
  }
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
