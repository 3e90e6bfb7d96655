/**
 * SPIRE's aws_kms KeyManager: keys live in AWS KMS and never leave it.
 * GenerateKey creates a KMS key (ECC_NIST_P256/P384, RSA_2048/4096, usage
 * SIGN_VERIFY) with the key policy and the description of the trust domain,
 * reads its public key, then points this server's alias for the SPIRE key id
 * at it (CreateAlias the first time, UpdateAlias after, queueing the replaced
 * key for deletion). SignData is one KMS Sign call on the digest
 * (MessageType DIGEST); KMS answers ECDSA in ASN.1 DER, as Go's crypto.Signer
 * does. GetPublicKey(s) answer from memory.
 *
 * Pure domain code over the KMS client: errors are the SDK's KeyManagerError
 * (kind → status code at the edge), with SPIRE's messages.
 */
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, type KMSClient, SignCommand, type Tag, UpdateAliasCommand } from "@aws-sdk/client-kms";
import { KeyManagerError, type Logger, type PublicKeyInfo, type Signature, type SignerOpts, fingerprintOf } from "@signet/plugin-sdk";
import { callSignal, describeAwsError } from "./aws-clients.js";
import type { DeletionQueue } from "./deletion-queue.js";
import { keySpecOfType } from "./fetcher.js";
import type { KmsKey } from "./kms-key.js";
import type { Names } from "./names.js";
import { kmsSigningFor } from "./signing-algorithm.js";

/** Where a new key's policy comes from: fixed (key_policy_file), or asked for once per key until one is known (the default policy). */
export type KeyPolicySource = { readonly kind: "fixed"; readonly policy: string } | { readonly kind: "caller"; readonly resolve: () => Promise<string | undefined> };

export interface AwsKmsKeyManagerDeps {
  readonly kms: KMSClient;
  readonly names: Names;
  readonly log: Logger;
  readonly queue: DeletionQueue;
  readonly policy: KeyPolicySource;
  /** User tags (key_tags) for every new key. */
  readonly keyTags: ReadonlyArray<readonly [string, string]>;
}

export class AwsKmsKeyManager {
  private readonly entries = new Map<string, KmsKey>();
  /** The last generation queued; generations run one at a time, as SPIRE holds its lock across them. */
  private generating: Promise<unknown> = Promise.resolve();
  private policy: string | undefined;

  constructor(
    private readonly deps: AwsKmsKeyManagerDeps,
    keys: readonly KmsKey[] = [],
  ) {
    for (const key of keys) this.entries.set(key.info.id, key);
    if (deps.policy.kind === "fixed") this.policy = deps.policy.policy;
  }

  /** This server's keys, sorted by SPIRE key id. */
  keys(): KmsKey[] {
    return [...this.entries.values()].sort((a, b) => compare(a.info.id, b.info.id));
  }

  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (type === 0) throw new KeyManagerError("invalid-argument", "key type is required");
    // SPIRE answers Internal here; an unknown key type is the caller's mistake, as every other KeyManager says.
    if (keySpecOfType(type) === undefined) throw new KeyManagerError("invalid-argument", `unsupported key type: ${type}`);
    const done = this.generating.then(() => this.createAndAlias(id, type));
    this.generating = done.catch(() => {});
    return (await done).info;
  }

  getPublicKey(id: string): PublicKeyInfo {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    const key = this.entries.get(id);
    if (!key) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    return key.info;
  }

  getPublicKeys(): PublicKeyInfo[] {
    return this.keys().map((k) => k.info);
  }

  /** Signs `digest` (already hashed by the caller) with key `id`, in KMS. */
  async signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Promise<Signature> {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (!opts) throw new KeyManagerError("invalid-argument", "signer opts is required");
    const key = this.entries.get(id);
    if (!key) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    const { algorithm, message } = kmsSigningFor(key.info.type, opts, digest);
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.deps.kms.send(
        new SignCommand({ KeyId: key.arn, Message: message, MessageType: "DIGEST", SigningAlgorithm: algorithm }),
        { abortSignal: callSignal() },
      ));
    } catch (e) {
      throw new KeyManagerError("internal", `failed to sign: ${describeAwsError(e)}`);
    }
    if (!signature || signature.length === 0) throw new KeyManagerError("internal", "failed to sign: KMS answered no signature");
    return { signature: Buffer.from(signature), keyFingerprint: key.info.fingerprint };
  }

  private async createAndAlias(id: string, type: number): Promise<KmsKey> {
    const key = await this.createKey(id, type);
    const old = this.entries.get(id);
    try {
      if (old) {
        await this.deps.kms.send(new UpdateAliasCommand({ AliasName: key.aliasName, TargetKeyId: key.arn }), { abortSignal: callSignal() });
        this.deps.log.debug("Alias updated", { alias_name: key.aliasName, key_arn: key.arn });
      } else {
        await this.deps.kms.send(new CreateAliasCommand({ AliasName: key.aliasName, TargetKeyId: key.arn }), { abortSignal: callSignal() });
        this.deps.log.debug("Alias created", { alias_name: key.aliasName, key_arn: key.arn });
      }
    } catch (e) {
      // SPIRE leaves the new key for the 48-hour orphan sweep; nothing will ever use it, so it goes now.
      this.deps.queue.enqueue(key.arn);
      throw new KeyManagerError("internal", `failed to ${old ? "update" : "create"} alias: ${describeAwsError(e)}`);
    }
    this.entries.set(id, key);
    if (old) this.deps.queue.enqueue(old.arn);
    return key;
  }

  private async createKey(id: string, type: number): Promise<KmsKey> {
    const keySpec = keySpecOfType(type)!;
    const policy = await this.keyPolicy();
    const tags: Tag[] = this.deps.keyTags.map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    let arn: string | undefined;
    try {
      const { KeyMetadata: metadata } = await this.deps.kms.send(
        new CreateKeyCommand({
          Description: this.deps.names.description(id),
          KeyUsage: "SIGN_VERIFY",
          KeySpec: keySpec,
          ...(policy === undefined ? {} : { Policy: policy }),
          ...(tags.length ? { Tags: tags } : {}),
        }),
        { abortSignal: callSignal() },
      );
      arn = metadata?.Arn;
    } catch (e) {
      throw new KeyManagerError("internal", `failed to create key: ${describeAwsError(e)}`);
    }
    if (!arn) throw new KeyManagerError("internal", "malformed create key response");
    this.deps.log.debug("Key created", { key_arn: arn });

    let publicKey: Uint8Array | undefined;
    try {
      ({ PublicKey: publicKey } = await this.deps.kms.send(new GetPublicKeyCommand({ KeyId: arn }), { abortSignal: callSignal() }));
    } catch (e) {
      this.deps.queue.enqueue(arn);
      throw new KeyManagerError("internal", `failed to get public key: ${describeAwsError(e)}`);
    }
    if (!publicKey || publicKey.length === 0) {
      this.deps.queue.enqueue(arn);
      throw new KeyManagerError("internal", "malformed get public key response");
    }
    const pkixData = Buffer.from(publicKey);
    return { arn, aliasName: this.deps.names.alias(id), info: { id, type: type as PublicKeyInfo["type"], pkixData, fingerprint: fingerprintOf(pkixData) } };
  }

  /** The policy for a new key; the default one is asked of STS until it is known, as SPIRE does. */
  private async keyPolicy(): Promise<string | undefined> {
    if (this.policy !== undefined || this.deps.policy.kind === "fixed") return this.policy;
    try {
      this.policy = await this.deps.policy.resolve();
    } catch (e) {
      throw new KeyManagerError("internal", `unable to create policy: ${(e as Error).message}`);
    }
    return this.policy;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
