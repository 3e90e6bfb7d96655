/**
 * When an X509-SVID is due for rotation (SPIRE's rotationutil): once its
 * remaining lifetime is at most half of its whole lifetime, jittered by
 * ±10% so that many agents or workloads do not all rotate at once. With an
 * availability target the SVID is renewed when that much lifetime remains,
 * unless that would leave less than 12 h between renewals.
 */
import { readCertificate } from "@signet/spiffe";

export interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

const minRenewalGapMs = 12 * 3600_000;

/**
 * The instant (ms) from which `v` should be rotated; `jitter` in [0, 1)
 * (random per SVID). `receivedAt`, when given, counts as the start of the
 * lifetime if it is later than notBefore: SVIDs are back-dated (10 s), and
 * for short TTLs half of the back-dated lifetime would already be over on
 * arrival, rotating again at once.
 */
export function rotationTime(v: Validity, jitter: number, availabilityTargetMs?: number, receivedAt?: number): number {
  const start = receivedAt !== undefined ? Math.min(Math.max(v.notBefore, receivedAt), v.notAfter) : v.notBefore;
  const lifetime = v.notAfter - start;
  if (availabilityTargetMs !== undefined && lifetime - availabilityTargetMs > minRenewalGapMs) {
    return v.notAfter - availabilityTargetMs;
  }
  const halfLife = lifetime / 2;
  const jittered = halfLife * (0.9 + 0.2 * jitter);
  return v.notAfter - jittered;
}

/**
 * The validity of a DER certificate (the leaf of an SVID chain), read from
 * the DER directly: an X509Certificate costs ~165 µs, a large part of
 * minting at 10k SVIDs.
 */
export function validityOf(der: Buffer): Validity {
  const cert = readCertificate(der);
  return { notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() };
}
