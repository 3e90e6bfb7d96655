/**
 * Entry point of the disk KeyManager plugin program: one process serves
 * both the server's and the agent's KeyManager service (the host binds the
 * one it needs and tolerates the other) and Signet's BatchSigner extension,
 * over one keys file named by the configuration (`keys_path` on a server,
 * `directory` on an agent).
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { mkdir } from "node:fs/promises";
import { Code, RpcError, configService, createLogger, batchSignerService, keyManager, keyManagerHandlers, serve } from "@signet/plugin-sdk";
import { type DiskConfig, configMessagePrefix, keysFileOf, parseConfig } from "./config.js";
import { KeysFileError, readKeysFile } from "./keys-file.js";
import { DiskKeyManager } from "./keymanager.js";

const log = createLogger();
let keys: DiskKeyManager | undefined;

const service = keyManagerHandlers(() => keys, { log, notConfigured: `${configMessagePrefix}: not configured` });

/** A configuration with the keys its file holds, read (not yet used) when the text is parsed. */
interface Loaded {
  readonly config: DiskConfig;
  readonly path: string;
  readonly keys: DiskKeyManager;
}

/**
 * Parsing reads the keys file too, so Validate and Configure refuse a corrupt
 * or unreadable one (InvalidArgument, naming the path) before anything could
 * write over it.
 */
async function parse(text: string): Promise<Loaded> {
  const config = await parseConfig(text);
  const path = keysFileOf(config);
  try {
    return { config, path, keys: new DiskKeyManager(path, await readKeysFile(path)) };
  } catch (e) {
    if (e instanceof KeysFileError) throw new Error(`${configMessagePrefix}: ${e.message}`);
    throw e;
  }
}

async function apply(loaded: Loaded): Promise<void> {
  // A reload naming the same file keeps the keys in hand: they are what the file holds, and a
  // generation in flight may have written after `loaded` was read.
  if (keys?.path === loaded.path) return;
  if (loaded.config.side === "agent") {
    try {
      await mkdir(loaded.config.directory, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new RpcError(Code.INTERNAL, `${configMessagePrefix}: unable to create directory ${JSON.stringify(loaded.config.directory)}: ${(e as Error).message}`);
    }
  }
  keys = loaded.keys;
  log.info("Keys file loaded", { path: loaded.path, keys: keys.getPublicKeys().length });
}

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [keyManager.agent(service), batchSignerService(service), configService({ parse, apply })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
