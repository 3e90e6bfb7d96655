/**
 * Signing a digest the host already computed, as Go's crypto.Signer does:
 * ECDSA answers ASN.1 DER, RSA answers raw PKCS #1 v1.5 or PSS bytes.
 *
 * node:crypto can only sign a message it hashes itself, so:
 * - RSA PKCS #1 v1.5: the DigestInfo (hash OID + digest) goes through the
 *   private-key operation with PKCS #1 type-1 padding (privateEncrypt);
 * - RSA PSS: the EMSA-PSS encoding (RFC 8017 §9.1.1) is built here and goes
 *   through the raw private-key operation (OpenSSL, with blinding);
 * - ECDSA: @noble/curves signs the digest as given (hedged RFC 6979 nonces).
 */
import { type KeyObject, constants, createHash, privateEncrypt, randomBytes } from "node:crypto";
import { p256, p384 } from "@noble/curves/nist.js";

/** A hash as the wire names it (Go's crypto.Hash numbers) and as node:crypto does. */
export interface Hash {
  readonly name: string;
  readonly node: string;
  readonly size: number;
  /** Last arc of the NIST hash OID 2.16.840.1.101.3.4.2.x, for the PKCS #1 v1.5 DigestInfo. */
  readonly oidArc: number;
}

/** HashAlgorithm values (spire.plugin.*.keymanager.v1) a KeyManager signs with. */
export const hashes: ReadonlyMap<number, Hash> = new Map([
  [4, { name: "SHA224", node: "sha224", size: 28, oidArc: 4 }],
  [5, { name: "SHA256", node: "sha256", size: 32, oidArc: 1 }],
  [6, { name: "SHA384", node: "sha384", size: 48, oidArc: 2 }],
  [7, { name: "SHA512", node: "sha512", size: 64, oidArc: 3 }],
  [10, { name: "SHA3_224", node: "sha3-224", size: 28, oidArc: 7 }],
  [11, { name: "SHA3_256", node: "sha3-256", size: 32, oidArc: 8 }],
  [12, { name: "SHA3_384", node: "sha3-384", size: 48, oidArc: 9 }],
  [13, { name: "SHA3_512", node: "sha3-512", size: 64, oidArc: 10 }],
  [14, { name: "SHA512_224", node: "sha512-224", size: 28, oidArc: 5 }],
  [15, { name: "SHA512_256", node: "sha512-256", size: 32, oidArc: 6 }],
]);

/** A digest of the wrong length or a salt that does not fit: the caller's mistake. */
export class SigningInputError extends Error {
  override readonly name = "SigningInputError";
}

export type Curve = "P-256" | "P-384";

export function signEcdsaDigest(curve: Curve, scalar: Uint8Array, digest: Uint8Array): Buffer {
  const ec = curve === "P-256" ? p256 : p384;
  // prehash: false — `digest` is the hash already; lowS: false, as Go does not normalize.
  return Buffer.from(ec.sign(digest, scalar, { prehash: false, lowS: false, format: "der", extraEntropy: true }));
}

export function signPkcs1v15Digest(key: KeyObject, hash: Hash, digest: Buffer): Buffer {
  requireDigestLength(hash, digest);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([digestInfoPrefix(hash), digest]));
}

/**
 * RSASSA-PSS over a digest. `saltLength` follows Go's rsa.PSSOptions: 0 =
 * as large as the key allows, -1 = the hash length, otherwise bytes.
 */
export function signPssDigest(key: KeyObject, modulusBits: number, hash: Hash, digest: Buffer, saltLength: number): Buffer {
  requireDigestLength(hash, digest);
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = hash.size;
  const maxSalt = emLen - hLen - 2;
  const sLen = saltLength === 0 ? maxSalt : saltLength === -1 ? hLen : saltLength;
  if (sLen < 0 || sLen > maxSalt) {
    throw new SigningInputError(`PSS salt length ${saltLength} does not fit a ${modulusBits}-bit key with ${hash.name} (at most ${maxSalt})`);
  }
  const salt = randomBytes(sLen);
  const h = createHash(hash.node).update(Buffer.concat([Buffer.alloc(8), digest, salt])).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  salt.copy(db, emLen - sLen - hLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modulusBits / 8);
  const block = em.length < k ? Buffer.concat([Buffer.alloc(k - em.length), em]) : em;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}

function requireDigestLength(hash: Hash, digest: Buffer): void {
  if (digest.length !== hash.size) {
    throw new SigningInputError(`data is ${digest.length} bytes, but a ${hash.name} digest is ${hash.size}: SignData takes the digest, not the message`);
  }
}

/** DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { oid, NULL }, OCTET STRING digest } up to the digest. */
function digestInfoPrefix(hash: Hash): Buffer {
  const oid = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, hash.oidArc];
  const algorithmId = [0x30, oid.length + 2, ...oid, 0x05, 0x00];
  return Buffer.from([0x30, algorithmId.length + 2 + hash.size, ...algorithmId, 0x04, hash.size]);
}

/** MGF1 (RFC 8017 B.2.1) with the signature's hash. */
function mgf1(hash: Hash, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, made = 0; made < length; i++, made += hash.size) {
    counter.writeUInt32BE(i);
    blocks.push(createHash(hash.node).update(seed).update(counter).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}
