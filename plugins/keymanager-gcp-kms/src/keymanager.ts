/**
 * SPIRE's gcp_kms KeyManager: one Cloud KMS CryptoKey per SPIRE key id, in
 * the configured key ring, named and labelled as naming.ts says. Pure domain
 * code over the Kms interface: errors carry a kind (KeyManagerError) that the
 * SDK's handlers turn into status codes.
 *
 * - GenerateKey of a new id creates the CryptoKey (its version 1 is the key)
 *   and sets its IAM policy; of a known id adds a version to its CryptoKey
 *   (changing the algorithm first if the type changed) and queues the old
 *   version for destruction.
 * - SignData sends the digest to AsymmetricSign with its CRC32C, and checks
 *   the answer's checksums and name (Google's data-integrity guidelines).
 * - The background work (tasks.ts) calls keepActive, disposeStale and
 *   destroyQueued: keeping this server's keys fresh, sweeping other servers'
 *   stale keys, destroying replaced versions.
 */
import { type Clock, KeyManagerError, type Logger, type PublicKeyInfo, type Signature, type SignerOpts, fingerprintOf } from "@signet/plugin-sdk";
import { type Algorithm, algorithmOf, digestOf, digests } from "./algorithms.js";
import { checksumMatches, crc32c } from "./crc32c.js";
import { DestroyQueue } from "./destroy-queue.js";
import type { KmsKeyEntry } from "./fetcher.js";
import { type CryptoKey, type Deadline, type IamPolicy, type Kms, KmsCode, KmsError, deadlineIn } from "./kms-client.js";
import { type ServerIdentity, cryptoKeyId, cryptoKeyIdProblem, enabledVersionsFilter, labels, newCryptoKeyLabels, staleKeysFilter, unixSeconds } from "./naming.js";
import { defaultPolicy } from "./policy.js";
import { fetchPublicKey } from "./public-key.js";

export interface GcpKmsKeyManagerOptions {
  readonly kms: Kms;
  readonly clock: Clock;
  readonly log: Logger;
  readonly keyRing: string;
  readonly identity: ServerIdentity;
  /** key_policy_file's policy; the default policy when undefined. */
  readonly customPolicy?: IamPolicy | undefined;
  /** Time one operation (all its Cloud KMS calls) may take; under the host's 30 s KeyManager deadline. */
  readonly operationTimeoutMs?: number;
}

export const defaultOperationTimeoutMs = 25_000;

/** What happened to one queued destruction: finished (done or moot), or to be tried again later. */
export type DestroyOutcome = "done" | "retry";

export class GcpKmsKeyManager {
  readonly destroyQueue = new DestroyQueue();
  private readonly entries = new Map<string, KmsKeyEntry>();
  /** The generation in flight per key id: a second one for the same id waits for it. */
  private readonly generating = new Map<string, Promise<unknown>>();
  private readonly timeoutMs: number;

  constructor(
    private readonly options: GcpKmsKeyManagerOptions,
    entries: readonly KmsKeyEntry[] = [],
  ) {
    this.timeoutMs = options.operationTimeoutMs ?? defaultOperationTimeoutMs;
    for (const entry of entries) this.entries.set(entry.publicKey.id, entry);
  }

  get kms(): Kms {
    return this.options.kms;
  }

  /** Creates key `id` of `type` in Cloud KMS, or a new version of it, and answers its public half. */
  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (type === 0) throw new KeyManagerError("invalid-argument", "key type is required");
    const algorithm = algorithmOf(type);
    if (algorithm === undefined) throw new KeyManagerError("invalid-argument", `unable to generate key ${JSON.stringify(id)} for unknown key type ${type}`);
    const problem = cryptoKeyIdProblem(this.options.identity.serverId, id);
    if (problem) throw new KeyManagerError("invalid-argument", problem);
    const previous = this.generating.get(id) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.createKey(id, type as PublicKeyInfo["type"], algorithm));
    this.generating.set(id, run);
    try {
      return await run;
    } catch (e) {
      throw new KeyManagerError("internal", `failed to generate key: ${(e as Error).message}`);
    } finally {
      if (this.generating.get(id) === run) this.generating.delete(id);
    }
  }

  getPublicKey(id: string): PublicKeyInfo {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    const entry = this.entries.get(id);
    if (!entry) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    return entry.publicKey;
  }

  getPublicKeys(): PublicKeyInfo[] {
    return [...this.entries.values()].map((e) => e.publicKey).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The cached entries (for the keep-alive task and tests). */
  keyEntries(): KmsKeyEntry[] {
    return [...this.entries.values()];
  }

  /** Signs `digest` (already hashed by the caller) with key `id`'s current version. */
  async signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Promise<Signature> {
    if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
    if (!opts) throw new KeyManagerError("invalid-argument", "signer opts is required");
    const entry = this.entries.get(id);
    if (!entry) throw new KeyManagerError("not-found", `key ${JSON.stringify(id)} not found`);
    // A Cloud KMS key's padding is fixed at creation, and this plugin makes PKCS #1 v1.5 keys (as SPIRE).
    if (opts.kind === "pss") throw new KeyManagerError("invalid-argument", "the only RSA signature scheme supported is RSASSA-PKCS1-v1_5");
    if (opts.hashAlgorithm === 0) throw new KeyManagerError("invalid-argument", "hash algorithm is required");
    const hash = digests.get(opts.hashAlgorithm);
    if (!hash) throw new KeyManagerError("invalid-argument", "hash algorithm not supported");
    // Cloud KMS would refuse these too, but only after a round trip and with a less helpful message.
    if (hash.field !== digestOf(entry.algorithm)) {
      throw new KeyManagerError(
        "invalid-argument",
        `hash algorithm ${hash.name} does not match key ${JSON.stringify(id)}: its Cloud KMS algorithm ${entry.algorithm} signs ${digestOf(entry.algorithm).toUpperCase()} digests`,
      );
    }
    if (digest.length !== hash.size) {
      throw new KeyManagerError("invalid-argument", `data is ${digest.length} bytes, but a ${hash.name} digest is ${hash.size}: SignData takes the digest, not the message`);
    }

    let answer;
    try {
      answer = await this.kms.asymmetricSign(entry.versionName, { field: hash.field, bytes: digest, crc32c: crc32c(digest) }, this.deadline());
    } catch (e) {
      throw new KeyManagerError("internal", `failed to sign: ${(e as Error).message}`);
    }
    if (!answer.verifiedDigestCrc32c || answer.name !== entry.versionName || !checksumMatches(answer.signatureCrc32c, crc32c(answer.signature))) {
      throw new KeyManagerError("internal", "error signing: response corrupted in-transit");
    }
    return { signature: answer.signature, keyFingerprint: entry.publicKey.fingerprint };
  }

  /**
   * Refreshes `spire-last-update` on every CryptoKey this server uses, so no
   * other server takes them for stale. Tries them all; throws the failures joined.
   */
  async keepActive(): Promise<void> {
    this.options.log.debug("Keeping CryptoKeys managed by this server active");
    const now = unixSeconds(this.options.clock.now());
    const failures: string[] = [];
    for (const entry of this.keyEntries()) {
      const cryptoKey = { ...entry.cryptoKey, labels: { ...entry.cryptoKey.labels, [labels.lastUpdate]: now } };
      try {
        const updated = await this.kms.updateCryptoKey(cryptoKey, ["labels"], this.deadline());
        const current = this.entries.get(entry.publicKey.id);
        if (current?.cryptoKey.name === updated.name) this.entries.set(entry.publicKey.id, { ...current, cryptoKey: { ...current.cryptoKey, labels: updated.labels } });
      } catch (e) {
        this.options.log.error("Failed to update CryptoKey", { crypto_key_name: entry.cryptoKey.name, reason: (e as Error).message });
        failures.push((e as Error).message);
      }
    }
    if (failures.length > 0) throw new Error(failures.join("; "));
  }

  /**
   * Sweeps the trust domain's stale keys: other servers' active CryptoKeys
   * not kept alive for two weeks have their enabled versions queued for
   * destruction; those with no enabled version left are marked inactive.
   */
  async disposeStale(): Promise<void> {
    const { kms, log, keyRing, identity, clock } = this.options;
    log.debug("Looking for CryptoKeys to dispose");
    const stale = await kms.listCryptoKeys(keyRing, staleKeysFilter(identity, clock.now()), this.deadline());
    for (const cryptoKey of stale) {
      const versions = await kms.listCryptoKeyVersions(cryptoKey.name, enabledVersionsFilter, this.deadline());
      if (versions.length === 0) {
        await this.setInactive(cryptoKey);
        continue;
      }
      for (const version of versions) this.enqueueDestruction(version.name);
    }
  }

  /** Queues a version for destruction; false (and logged) when the queue is full. */
  enqueueDestruction(versionName: string): boolean {
    if (this.destroyQueue.offer(versionName)) {
      this.options.log.debug("CryptoKeyVersion enqueued for destruction", { crypto_key_version_name: versionName });
      return true;
    }
    this.options.log.error("Failed to enqueue CryptoKeyVersion for destruction", { crypto_key_version_name: versionName, reason: `could not enqueue CryptoKeyVersion ${JSON.stringify(versionName)} for destruction` });
    return false;
  }

  /**
   * Schedules the destruction of one version. A version gone or no longer
   * enabled (someone else acted on it) is left alone; any other failure puts
   * it back in the queue and answers "retry", so the caller backs off.
   */
  async destroy(versionName: string): Promise<DestroyOutcome> {
    const log = this.options.log.with({ crypto_key_version_name: versionName });
    try {
      const destroyed = await this.kms.destroyCryptoKeyVersion(versionName, this.deadline());
      log.debug("CryptoKeyVersion scheduled for destruction", { scheduled_destroy_time: destroyed.destroyTime?.toISOString() });
      return "done";
    } catch (e) {
      if (e instanceof KmsError && e.code === KmsCode.NOT_FOUND) {
        log.warn("CryptoKeyVersion not found");
        return "done";
      }
      log.error("It was not possible to schedule CryptoKeyVersion for destruction", { reason: (e as Error).message });
    }
    try {
      const version = await this.kms.getCryptoKeyVersion(versionName, this.deadline());
      if (version.state !== "ENABLED") {
        log.warn("CryptoKeyVersion is not enabled, will not be scheduled for destruction", { crypto_key_version_state: version.state });
        return "done";
      }
    } catch (e) {
      if (e instanceof KmsError && e.code === KmsCode.NOT_FOUND) {
        log.warn("CryptoKeyVersion not found");
        return "done";
      }
      log.error("Could not get the CryptoKeyVersion while trying to schedule it for destruction", { reason: (e as Error).message });
    }
    if (this.destroyQueue.offer(versionName)) log.debug("CryptoKeyVersion re-enqueued for destruction");
    else log.error("Failed to re-enqueue CryptoKeyVersion for destruction");
    return "retry";
  }

  private async createKey(id: string, type: PublicKeyInfo["type"], algorithm: Algorithm): Promise<PublicKeyInfo> {
    const existing = this.entries.get(id);
    const deadline = this.deadline();
    const entry = existing ? await this.addVersion(existing, id, type, algorithm, deadline) : await this.createCryptoKey(id, type, algorithm, deadline);
    this.entries.set(id, entry);
    if (existing) this.enqueueDestruction(existing.versionName);
    return entry.publicKey;
  }

  private async createCryptoKey(id: string, type: PublicKeyInfo["type"], algorithm: Algorithm, deadline: Deadline): Promise<KmsKeyEntry> {
    const { kms, keyRing, identity, clock, log } = this.options;
    let cryptoKey: CryptoKey;
    try {
      cryptoKey = await kms.createCryptoKey(keyRing, cryptoKeyId(identity.serverId, id), algorithm, newCryptoKeyLabels(identity, clock.now()), deadline);
    } catch (e) {
      throw new Error(`failed to create CryptoKey: ${(e as Error).message}`);
    }
    log.debug("CryptoKey created", { crypto_key_name: cryptoKey.name, algorithm });
    try {
      await this.setIamPolicy(cryptoKey.name, deadline);
    } catch (e) {
      throw new Error(`failed to set IAM policy: ${(e as Error).message}`);
    }
    return this.entryOf(cryptoKey, `${cryptoKey.name}/cryptoKeyVersions/1`, id, type, algorithm, deadline);
  }

  private async addVersion(existing: KmsKeyEntry, id: string, type: PublicKeyInfo["type"], algorithm: Algorithm, deadline: Deadline): Promise<KmsKeyEntry> {
    const { kms, log } = this.options;
    let cryptoKey = existing.cryptoKey;
    if (cryptoKey.algorithm !== algorithm) {
      try {
        cryptoKey = await kms.updateCryptoKey({ ...cryptoKey, algorithm }, ["version_template.algorithm"], deadline);
      } catch (e) {
        throw new Error(`failed to update CryptoKey with updated algorithm: ${(e as Error).message}`);
      }
      log.debug("CryptoKey updated", { crypto_key_name: cryptoKey.name, algorithm });
    }
    let versionName: string;
    try {
      versionName = (await kms.createCryptoKeyVersion(cryptoKey.name, deadline)).name;
    } catch (e) {
      throw new Error(`failed to create CryptoKeyVersion: ${(e as Error).message}`);
    }
    log.debug("CryptoKeyVersion added", { crypto_key_name: cryptoKey.name, crypto_key_version_name: versionName });
    return this.entryOf(cryptoKey, versionName, id, type, algorithm, deadline);
  }

  private async entryOf(cryptoKey: CryptoKey, versionName: string, id: string, type: PublicKeyInfo["type"], algorithm: Algorithm, deadline: Deadline): Promise<KmsKeyEntry> {
    let pkixData: Buffer;
    try {
      pkixData = await fetchPublicKey(this.kms, this.options.clock, versionName, algorithm, deadline);
    } catch (e) {
      throw new Error(`failed to get public key: ${(e as Error).message}`);
    }
    return { cryptoKey, versionName, algorithm, publicKey: { id, type, pkixData, fingerprint: fingerprintOf(pkixData) } };
  }

  /** Sets key_policy_file's policy, or the default one, on a new CryptoKey that has no bindings yet. */
  private async setIamPolicy(cryptoKeyName: string, deadline: Deadline): Promise<void> {
    const { kms, log, customPolicy } = this.options;
    let current: IamPolicy;
    try {
      current = await kms.getIamPolicy(cryptoKeyName, deadline);
    } catch (e) {
      throw new Error(`failed to retrieve IAM policy: ${(e as Error).message}`);
    }
    if (current.bindings.length > 0) {
      log.warn("The CryptoKey already has a policy. No policy will be set.", { crypto_key_name: cryptoKeyName });
      return;
    }
    if (customPolicy) {
      try {
        await kms.setIamPolicy(cryptoKeyName, customPolicy, deadline);
      } catch (e) {
        throw new Error(`failed to set custom IAM policy: ${(e as Error).message}`);
      }
      log.debug("IAM policy updated to use custom policy", { crypto_key_name: cryptoKeyName });
      return;
    }
    let email: string;
    try {
      email = await kms.serviceAccountEmail();
    } catch (e) {
      throw new Error(`failed to get current identity: ${(e as Error).message}`);
    }
    try {
      await kms.setIamPolicy(cryptoKeyName, defaultPolicy(email, current), deadline);
    } catch (e) {
      throw new Error(`failed to set default IAM policy: ${(e as Error).message}`);
    }
    log.debug("IAM policy updated to use default policy", { crypto_key_name: cryptoKeyName });
  }

  private async setInactive(cryptoKey: CryptoKey): Promise<void> {
    try {
      await this.kms.updateCryptoKey({ ...cryptoKey, labels: { ...cryptoKey.labels, [labels.active]: "false" } }, ["labels"], this.deadline());
      this.options.log.debug("CryptoKey updated as inactive", { crypto_key_name: cryptoKey.name });
    } catch (e) {
      this.options.log.error("Could not update CryptoKey as inactive", { crypto_key_name: cryptoKey.name, reason: (e as Error).message });
    }
  }

  private deadline(): Deadline {
    return deadlineIn(this.timeoutMs);
  }
}

