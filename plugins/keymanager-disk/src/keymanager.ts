/**
 * SPIRE's disk KeyManager: the keys of the in-memory store, written through
 * to a keys file (keys-file.ts) so they survive a restart. Pure domain code:
 * no gRPC here; errors carry a kind that the service edge (index.ts) turns
 * into a status code.
 *
 * The file is the truth and memory follows it: a new key joins the store only
 * after the file holding it is in place, so a failed write loses nothing and
 * adds nothing. Writes are serialized; each writes every key the store holds
 * at that moment, so concurrent generations cannot drop each other's keys.
 */
import { type KeyEntry, KeyStore, type PublicKeyInfo, type Signature, type Signatures, type SignerOpts, generateKeyEntry } from "@signet/plugin-sdk";
import { writeKeysFile } from "./keys-file.js";

export { KeyManagerError, KeyType, fingerprintOf, type KeyManagerErrorKind, type PublicKeyInfo, type Signature, type SignerOpts } from "@signet/plugin-sdk";

export class DiskKeyManager {
  private readonly store = new KeyStore();
  /** The last write queued; the next one starts after it settles. */
  private writing: Promise<unknown> = Promise.resolve();

  /** A key manager over the keys file at `path`, starting with `entries` (read from it by readKeysFile). */
  constructor(
    readonly path: string,
    entries: readonly KeyEntry[] = [],
  ) {
    for (const entry of entries) this.store.set(entry);
  }

  /** Creates key `id` of `type`, replacing any key of that id, and persists it before answering. */
  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    // Generated outside the queue: RSA 4096 takes a while and need not hold up other writes.
    const entry = await generateKeyEntry(id, type);
    await this.serially(async () => {
      const next = [...this.store.entries().filter((e) => e.info.id !== id), entry];
      await writeKeysFile(this.path, next);
      this.store.set(entry);
    });
    return entry.info;
  }

  getPublicKey(id: string): PublicKeyInfo {
    return this.store.getPublicKey(id);
  }

  getPublicKeys(): PublicKeyInfo[] {
    return this.store.getPublicKeys();
  }

  /** Signs `digest` (already hashed by the caller) with key `id`. */
  signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Signature {
    return this.store.signData(id, digest, opts);
  }

  /** Signs whole messages (hashed here) with key `id`, in order: Signet's BatchSigner extension. */
  signMessages(id: string, messages: readonly Buffer[], opts: SignerOpts | undefined): Signatures {
    return this.store.signMessages(id, messages, opts);
  }

  private serially(write: () => Promise<void>): Promise<void> {
    const done = this.writing.then(write);
    this.writing = done.catch(() => {});
    return done;
  }
}
