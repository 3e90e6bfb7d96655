import { createPublicKey, type KeyObject, X509Certificate } from "node:crypto";

/** An authority that does not parse, with Go's wording where Go has one. */
export class BundleError extends Error {
  override readonly name = "BundleError";
}

/**
 * Go's x509.ParseCertificates: one or more DER certificates back to back.
 * Throws BundleError("x509: malformed certificate") for anything else
 * (trailing bytes, bad lengths, or a certificate Node cannot parse).
 */
export function parseCertificates(der: Uint8Array): X509Certificate[] {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const out: X509Certificate[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const end = derElementEnd(buf, offset);
    if (end === undefined) throw new BundleError("x509: malformed certificate");
    try {
      out.push(new X509Certificate(buf.subarray(offset, end)));
    } catch {
      throw new BundleError("x509: malformed certificate");
    }
    offset = end;
  }
  return out;
}

/** Go's x509.ParsePKIXPublicKey: a DER SubjectPublicKeyInfo of a key type Go knows. */
export function parsePkixPublicKey(der: Uint8Array): KeyObject {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (derElementEnd(buf, 0) !== buf.length) throw new BundleError("x509: failed to parse public key");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: buf, format: "der", type: "spki" });
  } catch {
    throw new BundleError("x509: failed to parse public key");
  }
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec" && type !== "ed25519") throw new BundleError("x509: unknown public key algorithm");
  return key;
}

/** End offset of the DER SEQUENCE starting at `offset`, or undefined if it is not one or overruns. */
function derElementEnd(buf: Buffer, offset: number): number | undefined {
  if (offset + 2 > buf.length || buf[offset] !== 0x30) return undefined;
  const first = buf[offset + 1] as number;
  let length: number;
  let header = 2;
  if (first < 0x80) length = first;
  else {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    header += n;
  }
  const end = offset + header + length;
  return end <= buf.length ? end : undefined;
}
