/**
 * Entry point of the memory KeyManager plugin program: one process serves
 * both the server's and the agent's KeyManager service (the host binds the
 * one it needs and tolerates the other) and Signet's BatchSigner extension,
 * over one in-memory key store.
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { configService, createLogger, batchSignerService, keyManager, keyManagerHandlers, serve } from "@signet/plugin-sdk";
import { parseConfig } from "./config.js";
import { MemoryKeyManager } from "./keymanager.js";

const log = createLogger();
const keys = new MemoryKeyManager();

const service = keyManagerHandlers(() => keys, { log, notConfigured: "keymanager memory: not configured" });

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [keyManager.agent(service), batchSignerService(service), configService({ parse: parseConfig, apply: () => {} })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
