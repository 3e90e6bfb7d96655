/**
 * When an X509-SVID is due for rotation (SPIRE's rotationutil): once its
 * remaining lifetime is at most half of its whole lifetime, jittered by
 * ±10% so that many agents or workloads do not all rotate at once. With an
 * availability target the SVID is renewed when that much lifetime remains,
 * unless that would leave less than 12 h between renewals.
 */
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
 * The validity of a DER certificate (the leaf of an SVID chain). Only the
 * path to the Validity field is walked: a full parse (readCertificate)
 * costs ~40 µs, an X509Certificate ~165 µs, both a visible part of minting
 * 10k SVIDs. Anything unexpected on that path throws.
 */
export function validityOf(der: Buffer): Validity {
  const cert = element(der, 0, 0x30, "certificate");
  const tbs = element(der, cert.start, 0x30, "TBSCertificate");
  let at = tbs.start;
  if (der[at] === 0xa0) at = element(der, at, 0xa0, "version").end;
  at = element(der, at, 0x02, "serial number").end;
  at = element(der, at, 0x30, "signature algorithm").end;
  at = element(der, at, 0x30, "issuer").end;
  const validity = element(der, at, 0x30, "validity");
  const notBefore = timeAt(der, validity.start);
  const notAfter = timeAt(der, notBefore.end);
  if (notAfter.end !== validity.end) throw new Error("certificate validity: unexpected content");
  return { notBefore: notBefore.ms, notAfter: notAfter.ms };
}

/** The DER element at `at` (tag checked, definite length): where its content starts and where it ends. */
function element(der: Buffer, at: number, tag: number, what: string): { start: number; end: number } {
  if (der[at] !== tag) throw new Error(`certificate ${what}: unexpected tag`);
  let length = der[at + 1];
  let start = at + 2;
  if (length === undefined) throw new Error(`certificate ${what}: truncated`);
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 3) throw new Error(`certificate ${what}: unsupported length`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (der[start + i] ?? Number.NaN);
    start += n;
  }
  const end = start + length;
  if (!(end <= der.length)) throw new Error(`certificate ${what}: truncated`);
  return { start, end };
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 allows them. */
function timeAt(der: Buffer, at: number): { ms: number; end: number } {
  const utc = der[at] === 0x17;
  const { start, end } = element(der, at, utc ? 0x17 : 0x18, "validity time");
  const text = der.toString("latin1", start, end);
  const m = (utc ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/).exec(text);
  if (!m) throw new Error(`certificate validity: malformed time "${text}"`);
  let year = Number(m[1]);
  if (utc) year += year >= 50 ? 1900 : 2000;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return { ms, end };
}
