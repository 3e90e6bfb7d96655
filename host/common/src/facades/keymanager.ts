import { type KeyObject, createPublicKey } from "node:crypto";
import { type AsyncClient, Code, RpcError } from "@signet/proto";
import type { KeyManagerService as AgentKeyManagerService } from "@signet/proto/spire/plugin/agent/keymanager/v1/keymanager";
import {
  HashAlgorithm,
  KeyType,
  type KeyManagerService,
  type PublicKey,
} from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";

export { HashAlgorithm, KeyType };

/** How to sign: a hash for ECDSA / RSA PKCS#1 v1.5, or PSS options. */
export type SignerOpts =
  | { readonly hashAlgorithm: HashAlgorithm }
  | { readonly pss: { readonly saltLength: number; readonly hashAlgorithm: HashAlgorithm } };

/** A key held by a KeyManager plugin: its public half here, its private half there. */
export interface ManagedKey {
  readonly id: string;
  readonly type: KeyType;
  readonly pkix: Buffer;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
}

/**
 * The host's view of a KeyManager plugin (server or agent side: the messages
 * are the same). Checks every answer as SPIRE's facade does: the key id
 * matches, the public key parses, and a signature comes from the very key
 * instance we saw (its fingerprint), which is how an overwritten key is caught.
 */
export class KeyManagerFacade {
  private readonly fingerprints = new Map<string, string>();
  private readonly client: AsyncClient<typeof KeyManagerService>;

  constructor(
    client: AsyncClient<typeof KeyManagerService> | AsyncClient<typeof AgentKeyManagerService>,
    private readonly label: string,
  ) {
    // Both sides' services carry identical messages; enums differ only by module.
    this.client = client as AsyncClient<typeof KeyManagerService>;
  }

  async generateKey(id: string, type: KeyType): Promise<ManagedKey> {
    const res = await this.client.generateKey({ keyId: id, keyType: type });
    return this.accept(id, res.publicKey);
  }

  /** The key, or undefined when the plugin has none by that id. */
  async getPublicKey(id: string): Promise<ManagedKey | undefined> {
    try {
      const res = await this.client.getPublicKey({ keyId: id });
      return res.publicKey ? this.accept(id, res.publicKey) : undefined;
    } catch (e) {
      if (e instanceof RpcError && e.code === Code.NOT_FOUND) return undefined;
      throw e;
    }
  }

  async getPublicKeys(): Promise<ManagedKey[]> {
    const res = await this.client.getPublicKeys({});
    return res.publicKeys.map((k) => this.accept(k.id, k));
  }

  /** Signs `digest` (already hashed) with key `id`; the signature is what Go's crypto.Signer returns. */
  async signData(id: string, digest: Buffer, opts: SignerOpts): Promise<Buffer> {
    const signerOpts =
      "pss" in opts
        ? { $case: "pssOptions" as const, value: { saltLength: opts.pss.saltLength, hashAlgorithm: opts.pss.hashAlgorithm } }
        : { $case: "hashAlgorithm" as const, value: opts.hashAlgorithm };
    const res = await this.client.signData({ keyId: id, data: digest, signerOpts });
    if (res.signature.length === 0) throw this.internal("plugin returned empty signature data");
    const expected = this.fingerprints.get(id);
    if (expected !== undefined && res.keyFingerprint !== expected) {
      throw this.internal(`fingerprint ${JSON.stringify(res.keyFingerprint)} does not match ${JSON.stringify(expected)}`);
    }
    return res.signature;
  }

  private accept(id: string, key: PublicKey | undefined): ManagedKey {
    if (!key) throw this.internal("plugin response missing public key");
    if (key.id !== id) throw this.internal(`plugin response has key id ${JSON.stringify(key.id)}; expected ${JSON.stringify(id)}`);
    if (key.pkixData.length === 0) throw this.internal("plugin response missing key PKIX data");
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: key.pkixData, format: "der", type: "spki" });
    } catch (e) {
      throw this.internal(`unable to parse public key PKIX data: ${(e as Error).message}`);
    }
    this.fingerprints.set(id, key.fingerprint);
    return { id, type: key.type, pkix: key.pkixData, publicKey, fingerprint: key.fingerprint };
  }

  private internal(message: string): RpcError {
    return new RpcError(Code.INTERNAL, `${this.label}: ${message}`);
  }
}
