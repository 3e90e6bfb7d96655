/**
 * The memory KeyManager, with its BatchSigner extension (Signet's
 * signet.plugin.keymanager.v1.BatchSigner) served, left out, or given one
 * defect, chosen by the first argument. Used by the host facade's tests
 * (batch path vs SignData fallback) and by the conformance kit's own tests
 * (each batch-sign check catches what it is meant to):
 *
 *   served            the extension as the SDK serves it (the default)
 *   no-batch-signer   SPIRE's KeyManager only, as a stock SPIRE plugin
 *   batch-only        the extension, but SignData fails: proves a host used the extension
 *   reversed-order    signatures answered in reverse order
 *   no-limits         signs batches over the limits instead of refusing them
 *   wrong-fingerprint the extension answers a fingerprint that is not the key's
 */
import {
  Code,
  RpcError,
  batchSignerService,
  configService,
  createLogger,
  keyManager,
  keyManagerHandlers,
  serve,
} from "@signet/plugin-sdk";
import { parseConfig } from "../../../plugins/keymanager-memory/src/config.js";
import { MemoryKeyManager } from "../../../plugins/keymanager-memory/src/keymanager.js";

const mode = process.argv[2] ?? "served";
const log = createLogger();
const keys = new MemoryKeyManager();
const handlers = keyManagerHandlers(() => keys, { log, notConfigured: "batch-keymanager: not configured" });

type SignMessagesRequest = Parameters<typeof handlers.signMessages>[0];

const service = {
  ...handlers,
  async signData(req: Parameters<typeof handlers.signData>[0]) {
    if (mode === "batch-only") throw new RpcError(Code.INTERNAL, "SignData is switched off in batch-only mode");
    return handlers.signData(req);
  },
  async signMessages(req: SignMessagesRequest) {
    if (mode === "no-limits") {
      // Sign in limit-sized slices, so the plugin's own checks never see the whole batch.
      const signatures: Buffer[] = [];
      let keyFingerprint = "";
      for (let i = 0; i < req.messages.length; i += 16) {
        const part = req.messages.slice(i, i + 16).map((m) => m.subarray(0, 1024));
        const res = await handlers.signMessages({ ...req, messages: part });
        signatures.push(...res.signatures);
        keyFingerprint = res.keyFingerprint;
      }
      if (req.messages.length === 0) return handlers.signMessages(req);
      return { signatures, keyFingerprint };
    }
    const res = await handlers.signMessages(req);
    if (mode === "reversed-order") return { ...res, signatures: [...res.signatures].reverse() };
    if (mode === "wrong-fingerprint") return { ...res, keyFingerprint: `${res.keyFingerprint.slice(0, -4)}0000` };
    return res;
  },
};

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [
    keyManager.agent(service),
    ...(mode === "no-batch-signer" ? [] : [batchSignerService(service)]),
    configService({ parse: parseConfig, apply: () => {} }),
  ],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
