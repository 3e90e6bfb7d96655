/**
 * The disk KeyManager's configuration. SPIRE has two plugins of this name:
 * the server's takes `keys_path` (the keys file itself), the agent's takes
 * `directory` (the keys file is `keys.json` inside it). This one program
 * serves both halves, so it accepts exactly one of the two keys; which one
 * says where the keys file is.
 */
import { decodePluginConfig, object, str } from "@signet/plugin-sdk";
import { join } from "node:path";

/** The agent's keys file inside `directory`, as SPIRE's agent disk KeyManager names it. */
export const agentKeysFileName = "keys.json";

export const configMessagePrefix = "keymanager disk";

export type DiskConfig =
  | { readonly side: "server"; readonly keysPath: string }
  | { readonly side: "agent"; readonly directory: string };

const schema = object({
  keys_path: str().optional(),
  directory: str().optional(),
});

/** Parses the text the host sends; throws with a message naming the offending key. */
export async function parseConfig(hclConfiguration: string): Promise<DiskConfig> {
  let raw: { keys_path?: string | undefined; directory?: string | undefined };
  try {
    raw = await decodePluginConfig(schema, hclConfiguration);
  } catch (e) {
    throw new Error(`${configMessagePrefix}: ${(e as Error).message}`);
  }
  const { keys_path: keysPath, directory } = raw;
  if (keysPath !== undefined && directory !== undefined) {
    throw new Error(
      `${configMessagePrefix}: keys_path and directory are both set; set keys_path for the server's KeyManager or directory for the agent's, not both`,
    );
  }
  if (keysPath !== undefined) {
    if (keysPath === "") throw new Error(`${configMessagePrefix}: keys_path is empty; expected the path of the keys file`);
    return { side: "server", keysPath };
  }
  if (directory !== undefined) {
    if (directory === "") throw new Error(`${configMessagePrefix}: directory is empty; expected the directory to keep the agent's keys in`);
    return { side: "agent", directory };
  }
  throw new Error(`${configMessagePrefix}: keys_path (server) or directory (agent) is required`);
}

/** Where the keys file of `config` is. */
export function keysFileOf(config: DiskConfig): string {
  return config.side === "server" ? config.keysPath : join(config.directory, agentKeysFileName);
}
