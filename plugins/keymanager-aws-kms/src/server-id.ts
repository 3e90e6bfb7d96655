/**
 * The server id of `key_identifier_file`: a UUID the plugin generates on first
 * start and keeps in that file (mode 0600), as SPIRE does, so a restart finds
 * the aliases it made. A lost file means a new id and new keys; the old ones
 * go stale and other servers of the trust domain dispose of them. The file
 * handling is the SDK's; the messages are SPIRE's aws_kms wording.
 */
import { PluginError, ServerIdFileError, type ServerIdFileProblem, readOrCreateServerId } from "@signet/plugin-sdk";

const failures: Record<ServerIdFileProblem, string> = {
  read: "failed to read server id from path",
  parse: "failed to parse server id from path",
  persist: "failed to persist server id on path",
};

/** The id kept in `path`, creating the file with a fresh UUID when there is none. */
export async function getOrCreateServerId(path: string): Promise<string> {
  try {
    return await readOrCreateServerId(path);
  } catch (e) {
    if (e instanceof ServerIdFileError) throw new PluginError("internal", `${failures[e.problem]}: ${e.message}`);
    throw e;
  }
}
