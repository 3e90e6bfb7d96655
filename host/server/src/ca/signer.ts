/**
 * How the CA gets signatures: whole messages (TBSCertificates, JWS signing
 * inputs, CSR infos) signed by a KeyManager key, many per call. Minting
 * builds every TBS first and signs them in one batch.
 */
import { createHash } from "node:crypto";
import { HashAlgorithm, type KeyManagerFacade, type ManagedKey, type SignerOpts } from "@signet/host-common";

export type CaHash = "sha256" | "sha384";

export interface CaSigner {
  /**
   * Signs each message with KeyManager key `keyId` (ECDSA or RSA PKCS #1
   * v1.5 over `hash`); signatures in request order, ECDSA in ASN.1 DER.
   */
  signMessages(keyId: string, messages: readonly Buffer[], hash: CaHash): Promise<Buffer[]>;
}

/** The KeyManager calls the CA makes besides signing. */
export type CaKeyManager = Pick<KeyManagerFacade, "generateKey" | "getPublicKey" | "getPublicKeys">;

/** A KeyManager that may sign whole messages in one round trip (Signet's BatchSigner extension). */
interface MaybeBatchKeyManager {
  signData(id: string, digest: Buffer, opts: SignerOpts): Promise<Buffer>;
  signMessages?: (id: string, messages: readonly Buffer[], opts: SignerOpts) => Promise<Buffer[]>;
}

/** The BatchSigner extension's per-request message limit. */
const maxMessagesPerCall = 1024;

/**
 * A CaSigner over a KeyManager facade: one batched call when the facade has
 * `signMessages`, otherwise SPIRE's SignData once per message (digests
 * computed here, calls in flight together).
 */
export function keyManagerCaSigner(keyManager: MaybeBatchKeyManager): CaSigner {
  return {
    async signMessages(keyId, messages, hash) {
      const opts: SignerOpts = { hashAlgorithm: hash === "sha384" ? HashAlgorithm.SHA384 : HashAlgorithm.SHA256 };
      if (messages.length === 0) return [];
      const batch = keyManager.signMessages?.bind(keyManager);
      if (batch) {
        const out: Buffer[] = [];
        for (let i = 0; i < messages.length; i += maxMessagesPerCall) {
          const chunk = messages.slice(i, i + maxMessagesPerCall);
          const signatures = await batch(keyId, chunk, opts);
          if (signatures.length !== chunk.length) {
            throw new Error(`key manager answered ${signatures.length} signatures for ${chunk.length} messages`);
          }
          out.push(...signatures);
        }
        return out;
      }
      return Promise.all(messages.map((m) => keyManager.signData(keyId, createHash(hash).update(m).digest(), opts)));
    },
  };
}

export type { ManagedKey };
