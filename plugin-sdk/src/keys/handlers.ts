/**
 * The gRPC edge of a KeyManager that holds its own keys: wire messages in,
 * domain calls, status codes out. The messages of the server and agent
 * KeyManager services are the same, so one set of handlers serves both
 * (`keyManager.server(h)` and `keyManager.agent(h)`), and Signet's
 * BatchSigner extension too (`batchSignerService(h)`).
 */
import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { BatchSignerService } from "@signet/proto/signet/plugin/keymanager/v1/batchsigner";
import { codeOfKind } from "../errors/plugin-error.js";
import type { Logger } from "../log/logger.js";
import { KeyManagerError, type PublicKeyInfo } from "./key-entry.js";
import type { Signature, Signatures, SignerOpts } from "./key-store.js";

/**
 * What the handlers call: a plugin's key manager (memory and disk answer at once; a KMS-backed one
 * answers after a round trip, hence the promises).
 */
export interface KeyManagerDomain {
  generateKey(id: string, type: number): Promise<PublicKeyInfo>;
  getPublicKey(id: string): PublicKeyInfo | Promise<PublicKeyInfo>;
  getPublicKeys(): PublicKeyInfo[] | Promise<PublicKeyInfo[]>;
  signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Signature | Promise<Signature>;
  /** Signs whole messages in order (BatchSigner); a domain without it answers Unimplemented. */
  signMessages?(id: string, messages: readonly Buffer[], opts: SignerOpts | undefined): Signatures;
}

/** Request shapes shared by both sides' generated messages (their enums are the same numbers). */
type WireSignerOpts =
  | { $case: "hashAlgorithm"; value: number }
  | { $case: "pssOptions"; value: { saltLength: number; hashAlgorithm: number } }
  | undefined;

export interface KeyManagerHandlerOptions {
  readonly log: Logger;
  /** Message for calls made before the plugin has keys to answer with (FailedPrecondition). */
  readonly notConfigured: string;
}

/**
 * Handlers over whichever key manager `current()` returns; undefined (not
 * configured yet) answers FailedPrecondition. KeyManagerErrors become status
 * codes here, and only here.
 */
export function keyManagerHandlers(current: () => KeyManagerDomain | undefined, options: KeyManagerHandlerOptions) {
  async function domain<T>(fn: (keys: KeyManagerDomain) => T | Promise<T>): Promise<T> {
    const keys = current();
    if (!keys) throw new RpcError(Code.FAILED_PRECONDITION, options.notConfigured);
    try {
      return await fn(keys);
    } catch (e) {
      if (e instanceof KeyManagerError) throw new RpcError(codeOfKind(e.kind), e.message);
      throw e;
    }
  }
  return {
    async generateKey(req: { keyId: string; keyType: number }) {
      const publicKey = await domain((k) => k.generateKey(req.keyId, req.keyType));
      options.log.debug("Generated key", { key_id: publicKey.id, key_type: publicKey.type, fingerprint: publicKey.fingerprint });
      return { publicKey };
    },
    async getPublicKey(req: { keyId: string }) {
      return { publicKey: await domain((k) => k.getPublicKey(req.keyId)) };
    },
    async getPublicKeys() {
      return { publicKeys: await domain((k) => k.getPublicKeys()) };
    },
    async signData(req: { keyId: string; data: Buffer; signerOpts: WireSignerOpts }) {
      return domain((k) => k.signData(req.keyId, req.data, signerOptsOf(req.signerOpts)));
    },
    async signMessages(req: { keyId: string; messages: Buffer[]; signerOpts: WireSignerOpts }) {
      return domain((k) => {
        if (!k.signMessages) throw new RpcError(Code.UNIMPLEMENTED, "this key manager does not sign batches of messages");
        return k.signMessages(req.keyId, req.messages, signerOptsOf(req.signerOpts));
      });
    },
  };
}

/**
 * Signet's BatchSigner extension (signet.plugin.keymanager.v1.BatchSigner)
 * over the same handlers: serve it beside the KeyManager services, and the
 * SDK lists it in the Init answer, which is how a Signet host knows to use it
 * (SPIRE hosts ignore it).
 *
 *   serve({ type: "KeyManager", plugin: keyManager.server(h), services: [keyManager.agent(h), batchSignerService(h), …] })
 */
export function batchSignerService(handlers: Pick<ReturnType<typeof keyManagerHandlers>, "signMessages">): ServiceRegistration {
  return implement(BatchSignerService, { signMessages: (req) => handlers.signMessages(req) });
}

function signerOptsOf(opts: WireSignerOpts): SignerOpts | undefined {
  if (!opts) return undefined;
  if (opts.$case === "hashAlgorithm") return { kind: "hash", hashAlgorithm: opts.value };
  return { kind: "pss", hashAlgorithm: opts.value.hashAlgorithm, saltLength: opts.value.saltLength };
}
