/**
 * The server id of `key_identifier_file`: a UUID the plugin generates on first
 * start and keeps in that file (mode 0600), as SPIRE does, so a restart finds
 * the aliases it made. A lost file means a new id and new keys; the old ones
 * go stale and other servers of the trust domain dispose of them.
 */
import { randomUUID } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ConfigureError } from "./errors.js";

const uuidPattern = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/** The id kept in `path`, creating the file with a fresh UUID when there is none. */
export async function getOrCreateServerId(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return createServerId(path);
    throw new ConfigureError("internal", `failed to read server id from path: ${(e as Error).message}`);
  }
  // SPIRE reads the file's bytes as they are; a trailing newline from an editor is forgiven here.
  const match = uuidPattern.exec(text.trim());
  if (!match) throw new ConfigureError("internal", `failed to parse server id from path: ${JSON.stringify(path)} does not hold a UUID`);
  return match.slice(1, 6).join("-").toLowerCase();
}

async function createServerId(path: string): Promise<string> {
  const id = randomUUID();
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    const file = await open(temporary, "wx", 0o600);
    try {
      await file.writeFile(id);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => {});
    throw new ConfigureError("internal", `failed to persist server id on path: ${(e as Error).message}`);
  }
  return id;
}
