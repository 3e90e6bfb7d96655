import { type KeyObject, createHash, createPublicKey } from "node:crypto";
import { type AsyncClient, Code, RpcError } from "@signet/proto";
import { BatchSignerService } from "@signet/proto/signet/plugin/keymanager/v1/batchsigner";
import { KeyManagerService as AgentKeyManagerService } from "@signet/proto/spire/plugin/agent/keymanager/v1/keymanager";
import { HashAlgorithm, KeyType, KeyManagerService, type PublicKey } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import type { Side } from "../catalog/plugin-types.js";
import type { ManagedPlugin } from "../catalog/supervisor.js";

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

/** Full name of Signet's BatchSigner extension, as a plugin lists it in its Init answer. */
export const batchSignerServiceName = "signet.plugin.keymanager.v1.BatchSigner";

/**
 * Limits of one SignMessages request, as batchsigner.proto states them (the
 * SDK enforces the same numbers plugin-side). Bigger jobs are split.
 */
export const batchSignerLimits = { maxMessages: 1024, maxMessageBytes: 64 * 1024, maxTotalBytes: 3 * 1024 * 1024 } as const;

/** How the facade reaches a plugin's BatchSigner extension. */
export interface BatchSignerAccess {
  readonly client: AsyncClient<typeof BatchSignerService>;
  /**
   * Whether the plugin's current process listed the extension at Init (a
   * restart may change it, hence a function). Without it the facade tries
   * the extension and remembers an Unimplemented answer.
   */
  readonly advertised?: () => boolean;
}

/**
 * The facade for a KeyManager plugin run by the catalog: SPIRE's service of
 * `side`, plus the BatchSigner extension whenever the plugin's current
 * process listed it at Init (so a restart into another build is followed).
 */
export function keyManagerFacadeFor(plugin: ManagedPlugin, side: Side): KeyManagerFacade {
  const label = `keymanager(${plugin.name})`;
  const client = side === "server" ? plugin.client(KeyManagerService) : plugin.client(AgentKeyManagerService);
  return new KeyManagerFacade(client, label, {
    client: plugin.client(BatchSignerService),
    advertised: () => plugin.services.has(batchSignerServiceName),
  });
}

/**
 * SignData calls in flight at once when signing a batch without the extension:
 * enough to hide the round trip, few enough not to queue on a plugin that
 * signs on one thread (bench/keymanager-sign: 16 was slower than 1).
 */
const fallbackConcurrency = 4;

/**
 * The host's view of a KeyManager plugin (server or agent side: the messages
 * are the same). Checks every answer as SPIRE's facade does: the key id
 * matches, the public key parses, and a signature comes from the very key
 * instance we saw (its fingerprint), which is how an overwritten key is caught.
 */
export class KeyManagerFacade {
  private readonly fingerprints = new Map<string, string>();
  private readonly client: AsyncClient<typeof KeyManagerService>;
  /** Set once the plugin answered Unimplemented to SignMessages (only when `advertised` is not known). */
  private batchUnimplemented = false;

  constructor(
    client: AsyncClient<typeof KeyManagerService> | AsyncClient<typeof AgentKeyManagerService>,
    private readonly label: string,
    private readonly batchSigner?: BatchSignerAccess,
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
    const res = await this.client.signData({ keyId: id, data: digest, signerOpts: wireSignerOpts(opts) });
    if (res.signature.length === 0) throw this.internal("plugin returned empty signature data");
    this.checkFingerprint(id, res.keyFingerprint);
    return res.signature;
  }

  /**
   * Signs whole messages with key `id`, answering one signature per message
   * in order (each as Go's crypto.Signer returns it). Uses the plugin's
   * BatchSigner extension when it has one (one call per up to 1024
   * messages); otherwise hashes each message here and calls SignData per
   * message, as a stock SPIRE plugin needs. Fingerprints are checked either way.
   */
  async signMessages(id: string, messages: readonly Buffer[], opts: SignerOpts): Promise<Buffer[]> {
    if (messages.length === 0) return [];
    if (this.batchSigner && this.batchUsable() && messages.every((m) => m.length <= batchSignerLimits.maxMessageBytes)) {
      const signed = await this.signBatches(this.batchSigner, id, messages, opts);
      if (signed) return signed;
    }
    return this.signEachDigest(id, messages, opts);
  }

  private batchUsable(): boolean {
    const advertised = this.batchSigner?.advertised;
    return advertised ? advertised() : !this.batchUnimplemented;
  }

  /** The extension's answer, or undefined when the plugin turned out not to have it. */
  private async signBatches(access: BatchSignerAccess, id: string, messages: readonly Buffer[], opts: SignerOpts): Promise<Buffer[] | undefined> {
    const out: Buffer[] = [];
    for (const chunk of chunksWithinLimits(messages)) {
      let res;
      try {
        res = await access.client.signMessages({ keyId: id, messages: chunk, signerOpts: wireSignerOpts(opts) });
      } catch (e) {
        if (out.length === 0 && !access.advertised && e instanceof RpcError && e.code === Code.UNIMPLEMENTED) {
          this.batchUnimplemented = true;
          return undefined;
        }
        throw e;
      }
      if (res.signatures.length !== chunk.length) {
        throw this.internal(`plugin returned ${res.signatures.length} signatures for ${chunk.length} messages`);
      }
      if (res.signatures.some((s) => s.length === 0)) throw this.internal("plugin returned empty signature data");
      this.checkFingerprint(id, res.keyFingerprint);
      out.push(...res.signatures);
    }
    return out;
  }

  /** Without the extension: hash here, SignData per message, a few calls in flight at a time. */
  private async signEachDigest(id: string, messages: readonly Buffer[], opts: SignerOpts): Promise<Buffer[]> {
    const hashName = nodeHashNames.get("pss" in opts ? opts.pss.hashAlgorithm : opts.hashAlgorithm);
    if (!hashName) throw new RpcError(Code.INVALID_ARGUMENT, `${this.label}: hash algorithm ${"pss" in opts ? opts.pss.hashAlgorithm : opts.hashAlgorithm} is not supported`);
    const out = new Array<Buffer>(messages.length);
    let next = 0;
    const worker = async () => {
      while (next < messages.length) {
        const i = next++;
        out[i] = await this.signData(id, createHash(hashName).update(messages[i]!).digest(), opts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(fallbackConcurrency, messages.length) }, worker));
    return out;
  }

  private checkFingerprint(id: string, fingerprint: string): void {
    const expected = this.fingerprints.get(id);
    if (expected !== undefined && fingerprint !== expected) {
      throw this.internal(`fingerprint ${JSON.stringify(fingerprint)} does not match ${JSON.stringify(expected)}`);
    }
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

function wireSignerOpts(opts: SignerOpts) {
  return "pss" in opts
    ? { $case: "pssOptions" as const, value: { saltLength: opts.pss.saltLength, hashAlgorithm: opts.pss.hashAlgorithm } }
    : { $case: "hashAlgorithm" as const, value: opts.hashAlgorithm };
}

/** HashAlgorithm (Go's crypto.Hash numbers) → node:crypto hash name, for hashing messages host-side. */
const nodeHashNames: ReadonlyMap<number, string> = new Map([
  [HashAlgorithm.SHA224, "sha224"],
  [HashAlgorithm.SHA256, "sha256"],
  [HashAlgorithm.SHA384, "sha384"],
  [HashAlgorithm.SHA512, "sha512"],
  [HashAlgorithm.SHA3_224, "sha3-224"],
  [HashAlgorithm.SHA3_256, "sha3-256"],
  [HashAlgorithm.SHA3_384, "sha3-384"],
  [HashAlgorithm.SHA3_512, "sha3-512"],
  [HashAlgorithm.SHA512_224, "sha512-224"],
  [HashAlgorithm.SHA512_256, "sha512-256"],
]);

/** Consecutive runs of messages, each within the extension's per-request limits. */
function* chunksWithinLimits(messages: readonly Buffer[]): Generator<Buffer[]> {
  let chunk: Buffer[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (chunk.length === batchSignerLimits.maxMessages || bytes + m.length > batchSignerLimits.maxTotalBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += m.length;
  }
  if (chunk.length > 0) yield chunk;
}
