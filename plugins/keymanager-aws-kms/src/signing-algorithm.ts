/**
 * Which KMS SigningAlgorithm signs a SignData request: RSA PKCS #1 v1.5 or
 * PSS with SHA-256/384/512, as SPIRE chooses (signingAlgorithmForKMS), and
 * ECDSA with the one algorithm KMS has for the curve (ECDSA_SHA_256 on P-256,
 * ECDSA_SHA_384 on P-384). SPIRE refuses ECDSA with another hash; the hash of
 * an ECDSA signature is not part of it, so here a SHA-256/384/512 digest of any
 * of them is signed on either curve (see ecdsaDigest), as Go's crypto.Signer
 * and the other KeyManagers do.
 *
 * KMS signs PSS with a salt as long as the hash. SPIRE ignores the salt length
 * asked for; here -1 (Go's "equals hash"), 0 (Go's zero value, which verifies
 * any salt) and the hash length itself are signed, and any other length is
 * refused rather than answered with a signature that would not verify with it.
 * The digest's length is checked here too, before a round trip KMS would refuse.
 */
import { KeyManagerError, KeyType, type SignerOpts } from "@signet/plugin-sdk";
import type { SigningAlgorithmSpec } from "@aws-sdk/client-kms";

/** HashAlgorithm numbers on the wire (Go's crypto.Hash), with the names SPIRE's messages use. */
const hashNames: Readonly<Record<number, string>> = {
  0: "UNSPECIFIED_HASH_ALGORITHM",
  4: "SHA224",
  5: "SHA256",
  6: "SHA384",
  7: "SHA512",
  10: "SHA3_224",
  11: "SHA3_256",
  12: "SHA3_384",
  13: "SHA3_512",
  14: "SHA512_224",
  15: "SHA512_256",
};
const digestSizes: Readonly<Record<number, number>> = { 5: 32, 6: 48, 7: 64 };
const kmsHash: Readonly<Record<number, "SHA_256" | "SHA_384" | "SHA_512">> = { 5: "SHA_256", 6: "SHA_384", 7: "SHA_512" };

const keyTypeNames: Readonly<Record<number, string>> = { 1: "EC_P256", 2: "EC_P384", 3: "RSA_2048", 4: "RSA_4096" };

/** What to send KMS Sign: the algorithm, and the digest as KMS takes it for that algorithm. */
export interface KmsSigning {
  readonly algorithm: SigningAlgorithmSpec;
  readonly message: Buffer;
}

export function kmsSigningFor(keyType: number, opts: SignerOpts | undefined, digest: Buffer): KmsSigning {
  if (!opts) throw invalid("signer opts is required");
  const hash = opts.hashAlgorithm;
  if (hash === 0) throw invalid(opts.kind === "pss" ? "hash algorithm in PSS options is required" : "hash algorithm is required");
  const size = digestSizes[hash];
  const pss = opts.kind === "pss";
  const unsupported = () => invalid(`unsupported combination of keytype: ${keyTypeNames[keyType] ?? keyType} and hashing algorithm: ${hashNames[hash] ?? hash}`);
  if (size === undefined) throw unsupported();
  if (digest.length !== size) {
    throw invalid(`data is ${digest.length} bytes, but a ${hashNames[hash]} digest is ${size}: SignData takes the digest, not the message`);
  }
  if (keyType === KeyType.EC_P256 || keyType === KeyType.EC_P384) {
    if (pss) throw unsupported();
    return keyType === KeyType.EC_P256 ? { algorithm: "ECDSA_SHA_256", message: ecdsaDigest(digest, 32) } : { algorithm: "ECDSA_SHA_384", message: ecdsaDigest(digest, 48) };
  }
  if (keyType !== KeyType.RSA_2048 && keyType !== KeyType.RSA_4096) throw unsupported();
  if (pss && opts.saltLength !== -1 && opts.saltLength !== 0 && opts.saltLength !== size) {
    throw invalid(`PSS salt length ${opts.saltLength} is not supported: AWS KMS signs PSS with a salt as long as the hash (${size} bytes for ${hashNames[hash]})`);
  }
  const h = kmsHash[hash]!;
  return { algorithm: pss ? `RSASSA_PSS_${h}` : `RSASSA_PKCS1_V1_5_${h}`, message: digest };
}

/**
 * The digest as the curve's KMS algorithm takes it (`size` bytes) with the same
 * ECDSA signature. ECDSA signs the integer of the digest's leftmost bits, as
 * many as the curve order has (FIPS 186-4 §6.4; Go's ecdsa does the same): a
 * longer digest is cut to its first `size` bytes, a shorter one is the same
 * integer with zero bytes in front.
 */
function ecdsaDigest(digest: Buffer, size: number): Buffer {
  if (digest.length === size) return digest;
  if (digest.length > size) return digest.subarray(0, size);
  return Buffer.concat([Buffer.alloc(size - digest.length), digest]);
}

function invalid(message: string): KeyManagerError {
  return new KeyManagerError("invalid-argument", message);
}
