/**
 * The keys of one KeyManager, by id, and the three calls every KeyManager
 * answers the same way: GetPublicKey, GetPublicKeys and SignData. How keys
 * come to be (generated in memory, read from disk) is the plugin's business;
 * it hands finished entries to `set`.
 *
 * As SPIRE's keymanager base: keys are listed sorted by id; signing answers
 * the fingerprint of the key that signed, so a host that fetched a key since
 * replaced refuses the signature.
 */
import { type KeyEntry, KeyManagerError, type PublicKeyInfo } from "./key-entry.js";
import { type MessageSigning, batchLimitProblem, pssSaltLength, signMessagesWith } from "./batch-signing.js";
import { type Hash, SigningInputError, hashes, signEcdsaDigest, signPkcs1v15Digest, signPssDigest } from "./signing.js";

/** How to sign: a hash (ECDSA, or RSA PKCS #1 v1.5), or RSA PSS with a salt length in Go's terms. */
export type SignerOpts =
  | { readonly kind: "hash"; readonly hashAlgorithm: number }
  | { readonly kind: "pss"; readonly hashAlgorithm: number; readonly saltLength: number };

export interface Signature {
  readonly signature: Buffer;
  readonly keyFingerprint: string;
}

/** Signatures of a batch of messages, in message order, and the fingerprint of the key that made them. */
export interface Signatures {
  readonly signatures: Buffer[];
  readonly keyFingerprint: string;
}

export class KeyStore {
  private readonly byId = new Map<string, KeyEntry>();

  /** Adds `entry`, replacing any key of its id. */
  set(entry: KeyEntry): void {
    this.byId.set(entry.info.id, entry);
  }

  /** Every entry, sorted by id. */
  entries(): KeyEntry[] {
    return [...this.byId.values()].sort((a, b) => compare(a.info.id, b.info.id));
  }

  getPublicKey(id: string): PublicKeyInfo {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    const entry = this.byId.get(id);
    if (!entry) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    return entry.info;
  }

  getPublicKeys(): PublicKeyInfo[] {
    return this.entries().map((e) => e.info);
  }

  /** Signs `digest` (already hashed by the caller) with key `id`. */
  signData(id: string, digest: Buffer, signerOpts: SignerOpts | undefined): Signature {
    const { hash, opts } = requireSigning(id, signerOpts);
    const entry = this.require(id);
    const { signer } = entry;
    return signing(id, () => {
      let signature: Buffer;
      if (signer.kind === "ec") {
        if (opts.kind === "pss") throw pssWithEc(id);
        signature = signEcdsaDigest(signer.curve, signer.scalar, digest);
      } else if (opts.kind === "pss") {
        signature = signPssDigest(signer.privateKey, signer.modulusBits, hash, digest, opts.saltLength);
      } else {
        signature = signPkcs1v15Digest(signer.privateKey, hash, digest);
      }
      return { signature, keyFingerprint: entry.info.fingerprint };
    });
  }

  /**
   * Signs each of `messages` (whole messages: hashed here) with key `id`,
   * answering the signatures in order (Signet's BatchSigner extension). A
   * batch over the limits is refused whole; an empty one answers no
   * signatures and the key's fingerprint.
   */
  signMessages(id: string, messages: readonly Buffer[], signerOpts: SignerOpts | undefined): Signatures {
    const { hash, opts } = requireSigning(id, signerOpts);
    const tooBig = batchLimitProblem(messages);
    if (tooBig) throw new KeyManagerError("invalid-argument", tooBig);
    const entry = this.require(id);
    const { signer } = entry;
    return signing(id, () => {
      let how: MessageSigning;
      if (signer.kind === "ec") {
        if (opts.kind === "pss") throw pssWithEc(id);
        how = { kind: "ecdsa", hash };
      } else if (opts.kind === "pss") {
        how = { kind: "pss", hash, saltLength: pssSaltLength(signer.modulusBits, hash, opts.saltLength) };
      } else {
        how = { kind: "pkcs1v15", hash };
      }
      return { signatures: signMessagesWith(entry, messages, how), keyFingerprint: entry.info.fingerprint };
    });
  }

  private require(id: string): KeyEntry {
    const entry = this.byId.get(id);
    if (!entry) throw new KeyManagerError("not-found", `no such key ${JSON.stringify(id)}`);
    return entry;
  }
}

/** The checks SignData and SignMessages share, in SPIRE's order and wording; answers the hash to sign with. */
function requireSigning(id: string, opts: SignerOpts | undefined): { readonly hash: Hash; readonly opts: SignerOpts } {
  if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
  if (!opts) throw new KeyManagerError("invalid-argument", "signer opts is required");
  if (opts.hashAlgorithm === 0) {
    throw new KeyManagerError("invalid-argument", opts.kind === "pss" ? "hash algorithm in PSS options is required" : "hash algorithm is required");
  }
  const hash = hashes.get(opts.hashAlgorithm);
  if (!hash) throw new KeyManagerError("invalid-argument", `hash algorithm ${opts.hashAlgorithm} is not supported`);
  return { hash, opts };
}

function pssWithEc(id: string): SigningInputError {
  return new SigningInputError(`key ${JSON.stringify(id)} is an EC key; PSS options apply to RSA keys only`);
}

/** Runs a signing operation, turning the caller's mistakes into invalid arguments and the rest into internal errors. */
function signing<T>(id: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SigningInputError) throw new KeyManagerError("invalid-argument", e.message);
    throw new KeyManagerError("internal", `keypair ${JSON.stringify(id)} signing operation failed: ${(e as Error).message}`);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
