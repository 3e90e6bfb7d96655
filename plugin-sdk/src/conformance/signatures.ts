/**
 * Key types and signature algorithms as SPIRE's KeyManager uses them, and
 * the independent checks of what a plugin returns: public keys parsed and
 * measured, signatures verified with node:crypto against the message the
 * digest was made from. A plugin is sent a digest (never the message) and
 * must answer what Go's crypto.Signer would: ASN.1 DER for ECDSA, raw bytes
 * for RSA.
 */
import { type KeyObject, constants, createHash, createPublicKey, verify } from "node:crypto";

export type KeyTypeName = "EC_P256" | "EC_P384" | "RSA_2048" | "RSA_4096";

export interface KeyTypeSpec {
  /** KeyType enum value on the wire. */
  readonly wire: number;
  readonly kind: "ec" | "rsa";
  /** OpenSSL curve name for EC keys; modulus size for RSA keys. */
  readonly curve?: "prime256v1" | "secp384r1";
  readonly bits?: number;
  readonly label: string;
}

export const keyTypes: Readonly<Record<KeyTypeName, KeyTypeSpec>> = {
  EC_P256: { wire: 1, kind: "ec", curve: "prime256v1", label: "an EC P-256 key" },
  EC_P384: { wire: 2, kind: "ec", curve: "secp384r1", label: "an EC P-384 key" },
  RSA_2048: { wire: 3, kind: "rsa", bits: 2048, label: "a 2048-bit RSA key" },
  RSA_4096: { wire: 4, kind: "rsa", bits: 4096, label: "a 4096-bit RSA key" },
};

export const allKeyTypes = Object.keys(keyTypes) as KeyTypeName[];

/** Go's x509.SignatureAlgorithm names, the ones SPIRE's suite signs with. */
export type SignatureAlgorithm =
  | "ECDSA-SHA256"
  | "ECDSA-SHA384"
  | "ECDSA-SHA512"
  | "SHA256-RSA"
  | "SHA384-RSA"
  | "SHA512-RSA"
  | "SHA256-RSAPSS"
  | "SHA384-RSAPSS"
  | "SHA512-RSAPSS";

interface HashSpec {
  /** HashAlgorithm enum value on the wire (Go's crypto.Hash number). */
  readonly wire: number;
  readonly node: string;
  readonly size: number;
}

const sha: Record<"256" | "384" | "512", HashSpec> = {
  "256": { wire: 5, node: "sha256", size: 32 },
  "384": { wire: 6, node: "sha384", size: 48 },
  "512": { wire: 7, node: "sha512", size: 64 },
};

export interface AlgorithmSpec {
  readonly scheme: "ecdsa" | "pkcs1v15" | "pss";
  readonly hash: HashSpec;
}

export function algorithm(name: SignatureAlgorithm): AlgorithmSpec {
  const bits = /SHA(256|384|512)/.exec(name)![1] as "256" | "384" | "512";
  const scheme = name.startsWith("ECDSA") ? "ecdsa" : name.endsWith("PSS") ? "pss" : "pkcs1v15";
  return { scheme, hash: sha[bits] };
}

export function signatureAlgorithmsFor(type: KeyTypeName): SignatureAlgorithm[] {
  return keyTypes[type].kind === "ec"
    ? ["ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512"]
    : ["SHA256-RSA", "SHA384-RSA", "SHA512-RSA", "SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS"];
}

/**
 * PSS salt lengths a host may ask for, in Go's terms: -1 = the hash length
 * (what x509.CreateCertificate uses), 0 = as large as possible, or bytes.
 */
export const pssSaltLengths = [-1, 0, 20] as const;

/** The salt length a PSS signature must carry for a requested one. */
export function expectedSaltLength(requested: number, modulusBits: number, hashSize: number): number {
  const emLen = Math.ceil((modulusBits - 1) / 8);
  if (requested === 0) return emLen - hashSize - 2;
  if (requested === -1) return hashSize;
  return requested;
}

/** Parses PKIX DER and says what kind of key it holds, or why it is not the expected one. */
export function inspectPublicKey(pkix: Buffer, type: KeyTypeName): { key: KeyObject } | { problem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pkix, format: "der", type: "spki" });
  } catch (e) {
    return { problem: `pkix_data does not parse as a PKIX (SubjectPublicKeyInfo) DER public key: ${(e as Error).message}` };
  }
  const spec = keyTypes[type];
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType !== spec.kind) return { problem: `pkix_data holds a ${key.asymmetricKeyType} key, not ${spec.label}` };
  if (spec.curve && details.namedCurve !== spec.curve) {
    return { problem: `pkix_data holds an EC key on curve ${details.namedCurve}, not ${spec.label}` };
  }
  if (spec.bits && details.modulusLength !== spec.bits) {
    return { problem: `pkix_data holds a ${details.modulusLength}-bit RSA key, not ${spec.label}` };
  }
  return { key };
}

export interface SignedDigest {
  readonly message: Buffer;
  readonly digest: Buffer;
}

export function digestOf(message: Buffer, alg: SignatureAlgorithm): Buffer {
  return createHash(algorithm(alg).hash.node).update(message).digest();
}

/**
 * Verifies a signature over `message` (whose digest the plugin was sent).
 * Returns undefined when it verifies, else what is wrong, naming the usual
 * mistakes: P1363 instead of DER, hashing the digest again, the wrong salt.
 */
export function signatureProblem(
  alg: SignatureAlgorithm,
  key: KeyObject,
  signed: SignedDigest,
  signature: Buffer,
  saltLength?: number,
): string | undefined {
  const { scheme, hash } = algorithm(alg);
  const ok = (data: Buffer, options: Record<string, unknown>) => {
    try {
      return verify(hash.node, data, { key, ...options }, signature);
    } catch {
      return false;
    }
  };
  if (scheme === "ecdsa") {
    if (ok(signed.message, { dsaEncoding: "der" })) return undefined;
    if (ok(signed.message, { dsaEncoding: "ieee-p1363" })) {
      return "the ECDSA signature is IEEE P1363 (r||s); hosts expect ASN.1 DER, as Go's crypto.Signer returns";
    }
    if (ok(signed.digest, { dsaEncoding: "der" })) return doubleHashed;
    return `the ECDSA ${hash.node} signature does not verify against the key's public key`;
  }
  if (scheme === "pkcs1v15") {
    if (ok(signed.message, { padding: constants.RSA_PKCS1_PADDING })) return undefined;
    if (ok(signed.digest, { padding: constants.RSA_PKCS1_PADDING })) return doubleHashed;
    if (ok(signed.message, { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO })) {
      return "asked for PKCS #1 v1.5 (hash_algorithm), the plugin signed with PSS";
    }
    return `the RSA PKCS #1 v1.5 ${hash.node} signature does not verify against the key's public key`;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const want = expectedSaltLength(saltLength ?? -1, bits, hash.size);
  const pss = (data: Buffer, salt: number) => ok(data, { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt });
  if (pss(signed.message, want)) return undefined;
  if (pss(signed.message, constants.RSA_PSS_SALTLEN_AUTO)) {
    return `the PSS signature verifies, but not with the ${want}-byte salt that salt_length ${saltLength} asks for (Go: 0 = as large as possible, -1 = hash length)`;
  }
  if (pss(signed.digest, constants.RSA_PSS_SALTLEN_AUTO)) return doubleHashed;
  if (ok(signed.message, { padding: constants.RSA_PKCS1_PADDING })) return "asked for PSS (pss_options), the plugin signed with PKCS #1 v1.5";
  return `the RSA PSS ${hash.node} signature does not verify against the key's public key`;
}

const doubleHashed = "the plugin hashed the data again before signing: SignData's data is already the digest and must be signed as it is";
