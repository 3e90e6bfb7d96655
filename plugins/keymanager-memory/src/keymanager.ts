/**
 * SPIRE's memory KeyManager: keys are generated and held in this process and
 * die with it. Pure domain code: no gRPC here; errors carry a kind that the
 * service edge (index.ts) turns into a status code.
 *
 * Behaviour follows SPIRE's keymanager base (pkg/server/plugin/keymanager/base):
 * generating an existing id replaces the key, keys are listed sorted by id,
 * and the fingerprint is the hex SHA-256 of the key's PKIX DER, so a host can
 * tell a replaced key from the one it fetched.
 */
import { type KeyObject, createHash, generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { type Curve, SigningInputError, hashes, signEcdsaDigest, signPkcs1v15Digest, signPssDigest } from "./signing.js";

/** KeyType values on the wire (spire.plugin.{server,agent}.keymanager.v1.KeyType). */
export const KeyType = { EC_P256: 1, EC_P384: 2, RSA_2048: 3, RSA_4096: 4 } as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

/** The public half, as the plugin answers it. */
export interface PublicKeyInfo {
  readonly id: string;
  readonly type: KeyType;
  readonly pkixData: Buffer;
  readonly fingerprint: string;
}

/** How to sign: a hash (ECDSA, or RSA PKCS #1 v1.5), or RSA PSS with a salt length in Go's terms. */
export type SignerOpts =
  | { readonly kind: "hash"; readonly hashAlgorithm: number }
  | { readonly kind: "pss"; readonly hashAlgorithm: number; readonly saltLength: number };

export interface Signature {
  readonly signature: Buffer;
  readonly keyFingerprint: string;
}

export type KeyManagerErrorKind = "invalid-argument" | "not-found" | "internal";

export class KeyManagerError extends Error {
  override readonly name = "KeyManagerError";
  constructor(
    readonly kind: KeyManagerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A generated key with everything signing needs, computed once. */
interface KeyEntry {
  readonly info: PublicKeyInfo;
  readonly signer: Signer;
}

type Signer =
  | { readonly kind: "ec"; readonly curve: Curve; readonly scalar: Uint8Array }
  | { readonly kind: "rsa"; readonly privateKey: KeyObject; readonly modulusBits: number };

const generate = promisify(generateKeyPair);

export class MemoryKeyManager {
  private readonly entries = new Map<string, KeyEntry>();

  /** Creates key `id` of `type`, replacing any key of that id. */
  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (type === 0) throw new KeyManagerError("invalid-argument", "key type is required");
    if (!isKeyType(type)) throw new KeyManagerError("invalid-argument", `unable to generate key ${JSON.stringify(id)} for unknown key type ${type}`);
    const entry = await newEntry(id, type);
    // Set after the (slow) generation: of two concurrent calls for one id, the last to finish wins, as in SPIRE.
    this.entries.set(id, entry);
    return entry.info;
  }

  getPublicKey(id: string): PublicKeyInfo {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    const entry = this.entries.get(id);
    if (!entry) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    return entry.info;
  }

  getPublicKeys(): PublicKeyInfo[] {
    return [...this.entries.values()].map((e) => e.info).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Signs `digest` (already hashed by the caller) with key `id`. */
  signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Signature {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (!opts) throw new KeyManagerError("invalid-argument", "signer opts is required");
    if (opts.hashAlgorithm === 0) {
      throw new KeyManagerError("invalid-argument", opts.kind === "pss" ? "hash algorithm in PSS options is required" : "hash algorithm is required");
    }
    const hash = hashes.get(opts.hashAlgorithm);
    if (!hash) throw new KeyManagerError("invalid-argument", `hash algorithm ${opts.hashAlgorithm} is not supported`);
    const entry = this.entries.get(id);
    if (!entry) throw new KeyManagerError("not-found", `no such key ${JSON.stringify(id)}`);
    const { signer } = entry;
    try {
      let signature: Buffer;
      if (signer.kind === "ec") {
        if (opts.kind === "pss") throw new SigningInputError(`key ${JSON.stringify(id)} is an EC key; PSS options apply to RSA keys only`);
        signature = signEcdsaDigest(signer.curve, signer.scalar, digest);
      } else if (opts.kind === "pss") {
        signature = signPssDigest(signer.privateKey, signer.modulusBits, hash, digest, opts.saltLength);
      } else {
        signature = signPkcs1v15Digest(signer.privateKey, hash, digest);
      }
      return { signature, keyFingerprint: entry.info.fingerprint };
    } catch (e) {
      if (e instanceof SigningInputError) throw new KeyManagerError("invalid-argument", e.message);
      throw new KeyManagerError("internal", `keypair ${JSON.stringify(id)} signing operation failed: ${(e as Error).message}`);
    }
  }
}

function isKeyType(type: number): type is KeyType {
  return type === KeyType.EC_P256 || type === KeyType.EC_P384 || type === KeyType.RSA_2048 || type === KeyType.RSA_4096;
}

async function newEntry(id: string, type: KeyType): Promise<KeyEntry> {
  const { publicKey, privateKey } =
    type === KeyType.EC_P256 || type === KeyType.EC_P384
      ? await generate("ec", { namedCurve: type === KeyType.EC_P256 ? "P-256" : "P-384" })
      : await generate("rsa", { modulusLength: type === KeyType.RSA_2048 ? 2048 : 4096, publicExponent: 0x10001 });
  const pkixData = publicKey.export({ type: "spki", format: "der" });
  const info: PublicKeyInfo = { id, type, pkixData, fingerprint: fingerprintOf(pkixData) };
  return { info, signer: signerFor(type, privateKey) };
}

function signerFor(type: KeyType, privateKey: KeyObject): Signer {
  if (type === KeyType.EC_P256 || type === KeyType.EC_P384) {
    const d = privateKey.export({ format: "jwk" }).d;
    if (!d) throw new KeyManagerError("internal", "generated EC key has no private scalar");
    return { kind: "ec", curve: type === KeyType.EC_P256 ? "P-256" : "P-384", scalar: Buffer.from(d, "base64url") };
  }
  return { kind: "rsa", privateKey, modulusBits: type === KeyType.RSA_2048 ? 2048 : 4096 };
}

/** Hex SHA-256 of the PKIX DER, as SPIRE's keymanager base computes it. */
export function fingerprintOf(pkixData: Buffer): string {
  return createHash("sha256").update(pkixData).digest("hex");
}
