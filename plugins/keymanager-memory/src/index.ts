/**
 * Entry point of the memory KeyManager plugin program: one process serves
 * both the server's and the agent's KeyManager service (the host binds the
 * one it needs and tolerates the other), over one in-memory key store.
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { Code, RpcError, configService, createLogger, keyManager, serve } from "@signet/plugin-sdk";
import { parseConfig } from "./config.js";
import { KeyManagerError, type KeyManagerErrorKind, MemoryKeyManager, type SignerOpts } from "./keymanager.js";

const log = createLogger();
const keys = new MemoryKeyManager();

/** Request shapes shared by both sides' generated messages (their enums are the same numbers). */
type WireSignerOpts =
  | { $case: "hashAlgorithm"; value: number }
  | { $case: "pssOptions"; value: { saltLength: number; hashAlgorithm: number } }
  | undefined;

const service = {
  async generateKey(req: { keyId: string; keyType: number }) {
    const publicKey = await domain(() => keys.generateKey(req.keyId, req.keyType));
    log.debug("Generated key", { key_id: publicKey.id, key_type: publicKey.type, fingerprint: publicKey.fingerprint });
    return { publicKey };
  },
  async getPublicKey(req: { keyId: string }) {
    return { publicKey: await domain(() => keys.getPublicKey(req.keyId)) };
  },
  async getPublicKeys() {
    return { publicKeys: keys.getPublicKeys() };
  },
  async signData(req: { keyId: string; data: Buffer; signerOpts: WireSignerOpts }) {
    return domain(() => keys.signData(req.keyId, req.data, signerOpts(req.signerOpts)));
  },
};

function signerOpts(opts: WireSignerOpts): SignerOpts | undefined {
  if (!opts) return undefined;
  if (opts.$case === "hashAlgorithm") return { kind: "hash", hashAlgorithm: opts.value };
  return { kind: "pss", hashAlgorithm: opts.value.hashAlgorithm, saltLength: opts.value.saltLength };
}

const codes: Record<KeyManagerErrorKind, Code> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "not-found": Code.NOT_FOUND,
  internal: Code.INTERNAL,
};

/** Domain errors become status codes here, and only here. */
async function domain<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KeyManagerError) throw new RpcError(codes[e.kind], e.message);
    throw e;
  }
}

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [keyManager.agent(service), configService({ parse: parseConfig, apply: () => {} })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
