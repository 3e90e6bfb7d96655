/**
 * Which authorities of a bundle have expired (pure; no database). An
 * X509Certificate entry may hold several DER certificates back to back and
 * goes as soon as any of them has expired.
 */
import { X509Certificate } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { failedPrecondition } from "./errors.js";

/**
 * The bundle without what expires at or before `expiresBefore` (seconds), or
 * undefined when nothing expires. FAILED_PRECONDITION if that would leave no
 * X.509 authority, or no JWT (or WIT) key where there were some.
 */
export function pruneAuthorities(bundle: Bundle, expiresBefore: bigint): Bundle | undefined {
  const x509 = bundle.x509Authorities.filter((a) => !certificatesExpire(a.asn1, expiresBefore));
  const jwt = bundle.jwtAuthorities.filter((k) => k.expiresAt === 0n || k.expiresAt > expiresBefore);
  const wit = bundle.witAuthorities.filter((k) => k.expiresAt === 0n || k.expiresAt > expiresBefore);
  const changed =
    x509.length !== bundle.x509Authorities.length || jwt.length !== bundle.jwtAuthorities.length || wit.length !== bundle.witAuthorities.length;
  if (!changed) return undefined;
  if (x509.length === 0) throw failedPrecondition("prune failed: would prune all certificates");
  if (jwt.length === 0 && bundle.jwtAuthorities.length > 0) throw failedPrecondition("prune failed: would prune all JWT signing keys");
  if (wit.length === 0 && bundle.witAuthorities.length > 0) throw failedPrecondition("prune failed: would prune all WIT signing keys");
  return { ...bundle, x509Authorities: x509, jwtAuthorities: jwt, witAuthorities: wit };
}

/** Whether any certificate in the DER sequence expires at or before the time. Unparsable data is kept. */
export function certificatesExpire(der: Uint8Array, expiresBefore: bigint): boolean {
  for (const cert of splitDer(Buffer.from(der))) {
    let notAfterMs: number;
    try {
      notAfterMs = Date.parse(new X509Certificate(cert).validTo);
    } catch {
      continue;
    }
    if (Number.isNaN(notAfterMs)) continue;
    if (BigInt(Math.floor(notAfterMs / 1000)) <= expiresBefore) return true;
  }
  return false;
}

/** Top-level DER elements laid end to end. Stops at the first malformed one. */
export function splitDer(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const start = i;
    i++; // tag (certificates are SEQUENCEs: single-byte tag)
    let len = buf[i++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + n > buf.length) break;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i++]!;
    }
    if (i + len > buf.length) break;
    i += len;
    out.push(buf.subarray(start, i));
  }
  return out;
}
