/**
 * SubjectPublicKeyInfo: which keys SVIDs and CAs may carry (EC P-256/P-384, RSA 2048/4096, as
 * SPIRE's key types), the canonical encodings Go would produce for them, and SKI computation.
 */
import { createHash, type JsonWebKey } from "node:crypto";
import { children, DerError, expectTag, parseOne, readBitStringBytes, readOid, readUnsignedIntegerBytes, Tag, type DerElement } from "./der.js";
import { Oid } from "./oids.js";

export type PublicKeyAlgorithm =
  | { readonly type: "ec"; readonly curve: "P-256" | "P-384" }
  | { readonly type: "rsa"; readonly modulusBits: 2048 | 4096 };

export interface SubjectPublicKeyInfo {
  /** The SPKI DER exactly as received; copied into certificates unchanged. */
  readonly raw: Buffer;
  readonly algorithm: PublicKeyAlgorithm;
  /** The subjectPublicKey BIT STRING's bytes (the EC point, or the PKCS#1 RSAPublicKey). */
  readonly subjectPublicKey: Buffer;
  /** The same key as a JWK, which node imports about 10x faster than SPKI DER. */
  readonly jwk: JsonWebKey;
}

/** A key we parsed fine but do not issue for; the caller words the error. */
export class UnsupportedKeyError extends Error {
  override readonly name = "UnsupportedKeyError";
}

const curves = { [Oid.p256]: { curve: "P-256", pointBytes: 65 }, [Oid.p384]: { curve: "P-384", pointBytes: 97 } } as const;
const knownNames: Record<string, string> = { [Oid.ed25519]: "Ed25519", [Oid.rsaPss]: "RSASSA-PSS", "1.3.101.113": "Ed448", "1.2.840.10040.4.1": "DSA" };

/**
 * Parses and checks an SPKI. Besides the key type, it requires the encoding Go's
 * MarshalPKIXPublicKey would produce (uncompressed EC point, RSA with NULL parameters), so copying
 * the bytes gives the same certificate SPIRE would issue.
 */
export function parseSpki(element: DerElement): SubjectPublicKeyInfo {
  const [algId, key, extra] = children(expectTag(element, Tag.sequence, "public key info"), "public key info", 3);
  if (extra) throw new DerError("public key info: unexpected element");
  const [algOid, params, extraParam] = children(expectTag(algId, Tag.sequence, "public key algorithm"), "public key algorithm", 3);
  if (extraParam) throw new DerError("public key algorithm: unexpected element");
  const algorithm = readOid(algOid, "public key algorithm");
  const subjectPublicKey = readBitStringBytes(key, "public key");

  if (algorithm === Oid.ecPublicKey) {
    const curveOid = readOid(params, "EC curve");
    const c = curves[curveOid as keyof typeof curves];
    if (!c) throw new UnsupportedKeyError(`unsupported EC curve ${curveOid}: expected P-256 or P-384`);
    if (subjectPublicKey.length !== c.pointBytes || subjectPublicKey[0] !== 0x04) {
      throw new DerError(`EC public key: expected an uncompressed ${c.curve} point`);
    }
    const half = (c.pointBytes - 1) / 2;
    return {
      raw: element.raw,
      algorithm: { type: "ec", curve: c.curve },
      subjectPublicKey,
      jwk: {
        kty: "EC",
        crv: c.curve,
        x: subjectPublicKey.subarray(1, 1 + half).toString("base64url"),
        y: subjectPublicKey.subarray(1 + half).toString("base64url"),
      },
    };
  }

  if (algorithm === Oid.rsaEncryption) {
    if (!params || params.tag !== Tag.null || params.contents.length !== 0) throw new DerError("RSA public key: parameters must be NULL");
    const rsaKey = parseOne(subjectPublicKey, Tag.sequence, "RSA public key");
    const [n, e, more] = children(rsaKey, "RSA public key", 3);
    if (more) throw new DerError("RSA public key: unexpected element");
    const modulus = readUnsignedIntegerBytes(n, "RSA modulus");
    const exponent = readUnsignedIntegerBytes(e, "RSA exponent");
    const bits = bitLength(modulus);
    if (bits !== 2048 && bits !== 4096) throw new UnsupportedKeyError(`unsupported RSA key size ${bits} bits: expected 2048 or 4096`);
    if (exponent.length > 4 || !(exponent[exponent.length - 1]! & 1) || (exponent.length === 1 && exponent[0]! < 3)) {
      throw new UnsupportedKeyError("unsupported RSA public exponent");
    }
    return {
      raw: element.raw,
      algorithm: { type: "rsa", modulusBits: bits },
      subjectPublicKey,
      jwk: { kty: "RSA", n: modulus.toString("base64url"), e: exponent.toString("base64url") },
    };
  }

  const name = knownNames[algorithm];
  throw new UnsupportedKeyError(
    `unsupported public key algorithm ${algorithm}${name ? ` (${name})` : ""}: expected EC P-256, EC P-384, RSA 2048 or RSA 4096`,
  );
}

/** SKI as SPIRE computes it (x509util.GetSubjectKeyID): SHA-1 of the subjectPublicKey bits. */
export function subjectKeyIdOf(subjectPublicKey: Buffer): Buffer {
  return createHash("sha1").update(subjectPublicKey).digest();
}

/** SKI straight from SPKI DER: SHA-1 over the BIT STRING's bytes, found without a full parse. */
export function subjectKeyIdFromSpki(spki: Buffer): Buffer {
  const outer = parseOne(spki, Tag.sequence, "public key info");
  const [, key] = children(outer, "public key info", 3);
  return subjectKeyIdOf(readBitStringBytes(key, "public key"));
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}
