/**
 * The JOSE pieces a JWT-SVID needs (RFC 7515/7518): base64url segments, the
 * algorithms SPIFFE allows, and signature encodings. ECDSA signers (Node's
 * default, KeyManager plugins) answer ASN.1 DER; JWS wants fixed-length r||s.
 */
import type { KeyObject } from "node:crypto";

/** The nine algorithms the JWT-SVID standard allows; anything else is refused on parse. */
export const jwtSvidAlgorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"] as const;
export type JwtSvidAlgorithm = (typeof jwtSvidAlgorithms)[number];

/** What SPIRE signs with, by key type: ES256 (P-256), ES384 (P-384), RS256 (RSA). */
export type JwtSigningAlgorithm = "ES256" | "ES384" | "RS256";

export class JwtSvidError extends Error {
  override readonly name = "JwtSvidError";
}

/** The algorithm SPIRE's signer uses for a key (cryptoutil.JoseAlgFromPublicKey). */
export function jwtAlgorithmFor(key: KeyObject): JwtSigningAlgorithm {
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return "ES256";
    if (curve === "secp384r1") return "ES384";
    throw new JwtSvidError(`unable to determine signing algorithm: unsupported EC curve ${curve ?? "unknown"}`);
  }
  if (key.asymmetricKeyType === "rsa") return "RS256";
  throw new JwtSvidError(`unable to determine signing algorithm: unsupported key type ${key.asymmetricKeyType ?? "unknown"}`);
}

/** The hash an algorithm signs with. */
export function hashOfJwtAlgorithm(alg: JwtSvidAlgorithm): "sha256" | "sha384" | "sha512" {
  const bits = alg.slice(2);
  return bits === "256" ? "sha256" : bits === "384" ? "sha384" : "sha512";
}

/** Byte length of each of r and s for an ECDSA algorithm. */
export function ecdsaCoordinateLength(alg: JwtSvidAlgorithm): number | undefined {
  return alg === "ES256" ? 32 : alg === "ES384" ? 48 : alg === "ES512" ? 66 : undefined;
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Strict base64url (no padding, no other alphabet); undefined when `text` is not that. */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, "base64url");
}

/**
 * A signature as JWS carries it: ECDSA DER (ECDSA-Sig-Value) becomes r||s,
 * each left-padded to the curve size; RSA signatures are unchanged.
 */
export function joseSignature(alg: JwtSvidAlgorithm, signature: Buffer): Buffer {
  const size = ecdsaCoordinateLength(alg);
  if (size === undefined) return signature;
  const [r, s] = readEcdsaSigValue(signature);
  return Buffer.concat([leftPad(r, size), leftPad(s, size)]);
}

function readEcdsaSigValue(der: Buffer): [Buffer, Buffer] {
  let pos = 0;
  const fail = (): never => {
    throw new JwtSvidError("malformed ECDSA signature: expected a DER ECDSA-Sig-Value");
  };
  const readLength = (): number => {
    const first = der[pos++];
    if (first === undefined) return fail();
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2) return fail();
    let len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (der[pos++] ?? fail());
    return len;
  };
  if (der[pos++] !== 0x30) fail();
  const seqLen = readLength();
  if (pos + seqLen !== der.length) fail();
  const readInt = (): Buffer => {
    if (der[pos++] !== 0x02) fail();
    const len = readLength();
    if (len === 0 || pos + len > der.length) fail();
    const value = der.subarray(pos, pos + len);
    pos += len;
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    return value.subarray(start);
  };
  const r = readInt();
  const s = readInt();
  if (pos !== der.length) fail();
  return [r, s];
}

function leftPad(value: Buffer, size: number): Buffer {
  if (value.length > size) throw new JwtSvidError("malformed ECDSA signature: integer longer than the curve size");
  if (value.length === size) return value;
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}
