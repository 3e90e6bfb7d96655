/**
 * This server's ID, which names its CryptoKeys and labels them
 * (`spire-server-id`): the configured key_identifier_value, or a UUID kept in
 * key_identifier_file, made and written (mode 0600, atomically) the first
 * time. Losing the file loses track of the keys: a new ID means new keys,
 * and the old ones go stale and are swept by the trust domain's servers.
 * The file handling is the SDK's; the messages are SPIRE's gcp_kms wording.
 */
import { KeyManagerError, type ServerIdFileProblem, ServerIdFileError, readOrCreateServerId } from "@signet/plugin-sdk";
import type { KeyIdentifier } from "./config.js";

export async function serverIdOf(identifier: KeyIdentifier): Promise<string> {
  return identifier.kind === "value" ? identifier.value : getOrCreateServerId(identifier.path);
}

const failures: Record<ServerIdFileProblem, string> = {
  read: "failed to read server ID from path",
  parse: "failed to parse server ID from path",
  persist: "failed to persist server ID on path",
};

export async function getOrCreateServerId(path: string): Promise<string> {
  try {
    return await readOrCreateServerId(path);
  } catch (e) {
    if (e instanceof ServerIdFileError) throw new KeyManagerError("internal", `${failures[e.problem]}: ${e.message}`);
    throw e;
  }
}
