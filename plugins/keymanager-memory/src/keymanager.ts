/**
 * SPIRE's memory KeyManager: keys are generated and held in this process and
 * die with it. Pure domain code: no gRPC here; errors carry a kind that the
 * service edge (index.ts) turns into a status code.
 *
 * Key generation, the key store and digest signing are the SDK's (shared with
 * the disk KeyManager); what is this plugin's own is only that keys live in
 * memory. Behaviour follows SPIRE's keymanager base: generating an existing
 * id replaces the key, keys are listed sorted by id, and the fingerprint is
 * the hex SHA-256 of the key's PKIX DER.
 */
import { KeyStore, type PublicKeyInfo, type Signature, type Signatures, type SignerOpts, generateKeyEntry } from "@signet/plugin-sdk";

export {
  KeyManagerError,
  KeyType,
  fingerprintOf,
  type KeyManagerErrorKind,
  type PublicKeyInfo,
  type Signature,
  type SignerOpts,
} from "@signet/plugin-sdk";

export class MemoryKeyManager {
  private readonly store = new KeyStore();

  /** Creates key `id` of `type`, replacing any key of that id. */
  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    const entry = await generateKeyEntry(id, type);
    // Set after the (slow) generation: of two concurrent calls for one id, the last to finish wins, as in SPIRE.
    this.store.set(entry);
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
}
