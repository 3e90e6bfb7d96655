/**
 * SPIRE key types as Cloud KMS algorithms, both ways, and the digest each
 * algorithm signs. As SPIRE: RSA keys sign RSASSA-PKCS1-v1_5 with SHA-256
 * (what x509.CreateCertificate asks of an RSA signer), since a KMS key's
 * padding and hash are fixed when it is created and the KeyManager's key
 * type does not say them.
 */
import { KeyType } from "@signet/plugin-sdk";

export type Algorithm = "EC_SIGN_P256_SHA256" | "EC_SIGN_P384_SHA384" | "RSA_SIGN_PKCS1_2048_SHA256" | "RSA_SIGN_PKCS1_4096_SHA256";

const byKeyType: ReadonlyMap<number, Algorithm> = new Map<number, Algorithm>([
  [KeyType.EC_P256, "EC_SIGN_P256_SHA256"],
  [KeyType.EC_P384, "EC_SIGN_P384_SHA384"],
  [KeyType.RSA_2048, "RSA_SIGN_PKCS1_2048_SHA256"],
  [KeyType.RSA_4096, "RSA_SIGN_PKCS1_4096_SHA256"],
]);

const byAlgorithm: ReadonlyMap<string, KeyType> = new Map([...byKeyType].map(([type, algorithm]) => [algorithm, type as KeyType]));

export function algorithmOf(keyType: number): Algorithm | undefined {
  return byKeyType.get(keyType);
}

export function keyTypeOf(algorithm: string): KeyType | undefined {
  return byAlgorithm.get(algorithm);
}

/** A digest as AsymmetricSign takes it (the field of google.cloud.kms.v1.Digest) and as the wire's HashAlgorithm numbers it. */
export interface DigestKind {
  readonly field: "sha256" | "sha384";
  readonly name: string;
  readonly size: number;
}

/** The HashAlgorithm values (Go's crypto.Hash numbers) SPIRE's gcp_kms signs: SHA-256 and SHA-384. */
export const digests: ReadonlyMap<number, DigestKind> = new Map([
  [5, { field: "sha256", name: "SHA256", size: 32 }],
  [6, { field: "sha384", name: "SHA384", size: 48 }],
]);

/** The digest an algorithm signs; Cloud KMS refuses any other. */
export function digestOf(algorithm: Algorithm): DigestKind["field"] {
  return algorithm === "EC_SIGN_P384_SHA384" ? "sha384" : "sha256";
}
