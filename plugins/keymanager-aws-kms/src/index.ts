/**
 * Entry point of the aws_kms KeyManager plugin program (server side): keys
 * in AWS KMS, found again after a restart through this server's aliases.
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { type KeyManagerDomain, configService, createLogger, keyManager, keyManagerHandlers, serve, toRpcError } from "@signet/plugin-sdk";
import { type AwsKmsConfig, configMessagePrefix, parseConfig } from "./config.js";
import { type ConfiguredPlugin, configurePlugin } from "./plugin.js";

const log = createLogger();
let current: ConfiguredPlugin | undefined;

/** The configured keys, or undefined before Configure (the handlers then answer FailedPrecondition). */
const domain = (): KeyManagerDomain | undefined => {
  const keys = current?.keys;
  if (!keys) return undefined;
  return {
    generateKey: (id, type) => keys.generateKey(id, type),
    getPublicKey: (id) => keys.getPublicKey(id),
    getPublicKeys: () => keys.getPublicKeys(),
    signData: (id, digest, opts) => keys.signData(id, digest, opts),
  };
};

const service = keyManagerHandlers(domain, { log, notConfigured: `${configMessagePrefix}: not configured` });

async function apply(config: AwsKmsConfig, trustDomain: string): Promise<void> {
  let next: ConfiguredPlugin;
  try {
    next = await configurePlugin(config, trustDomain, { log });
  } catch (e) {
    throw toRpcError(e);
  }
  // The new keys answer from now on; the previous configuration's tasks stop.
  const previous = current;
  current = next;
  await previous?.stop();
  log.info("Keys loaded from AWS KMS", { server_id: next.serverId, keys: next.keys.getPublicKeys().length });
}

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [configService({ parse: (text) => parseConfig(text), apply: (config, core) => apply(config, core.trustDomain) })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
