/**
 * Entry point of the gcp_kms KeyManager plugin program (server side only, as
 * SPIRE's): keys live in Google Cloud KMS and never leave it.
 * This file is the edge: configuration in, the domain (keymanager.ts) behind
 * the SDK's KeyManager handlers, status codes out.
 */
import { Code, type KeyManagerDomain, KeyManagerError, RpcError, codeOfKind, configService, createLogger, keyManager, keyManagerHandlers, serve, systemClock } from "@signet/plugin-sdk";
import { type GcpKmsConfig, configMessagePrefix, parseConfig } from "./config.js";
import { openKeyManager } from "./configure.js";
import { type GcpKmsKeyManager, defaultOperationTimeoutMs } from "./keymanager.js";
import { createKms } from "./kms-client.js";
import { KeyManagerTasks } from "./tasks.js";

const log = createLogger();
let keys: GcpKmsKeyManager | undefined;
let tasks: KeyManagerTasks | undefined;

const service = keyManagerHandlers((): KeyManagerDomain | undefined => keys, { log, notConfigured: `${configMessagePrefix}: not configured` });

async function apply(config: GcpKmsConfig, core: { trustDomain: string }): Promise<void> {
  let next: GcpKmsKeyManager;
  try {
    next = await openKeyManager(config, core.trustDomain, { clock: systemClock, log, createKms });
  } catch (e) {
    if (e instanceof KeyManagerError) throw new RpcError(codeOfKind(e.kind), e.message);
    throw new RpcError(Code.INTERNAL, (e as Error).message);
  }
  const previous = { keys, tasks };
  keys = next;
  tasks = new KeyManagerTasks(next, systemClock, log);
  await previous.tasks?.stop();
  // Calls that started on the old client may still be running: close it once they cannot be.
  const old = previous.keys?.kms;
  if (old) setTimeout(() => void old.close().catch(() => {}), defaultOperationTimeoutMs + 1000).unref();
  log.info("Keys loaded from Cloud KMS", { key_ring: config.keyRing, keys: next.getPublicKeys().length });
}

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [configService({ parse: (text) => parseConfig(text), apply })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
