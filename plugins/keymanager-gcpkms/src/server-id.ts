/**
 * This server's ID, which names its CryptoKeys and labels them
 * (`spire-server-id`): the configured key_identifier_value, or a UUID kept in
 * key_identifier_file, made and written (mode 0600, atomically) the first
 * time. Losing the file loses track of the keys: a new ID means new keys,
 * and the old ones go stale and are swept by the trust domain's servers.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KeyManagerError } from "@signet/plugin-sdk";
import type { KeyIdentifier } from "./config.js";

export async function serverIdOf(identifier: KeyIdentifier): Promise<string> {
  return identifier.kind === "value" ? identifier.value : getOrCreateServerId(identifier.path);
}

const uuidPattern = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

export async function getOrCreateServerId(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return createServerId(path);
    throw new KeyManagerError("internal", `failed to read server ID from path: ${(e as Error).message}`);
  }
  // A trailing newline (an ID written with echo) is forgiven; anything else must be a UUID.
  const m = uuidPattern.exec(text.replace(/\r?\n$/, ""));
  if (!m) throw new KeyManagerError("internal", `failed to parse server ID from path: ${JSON.stringify(path)} does not hold a UUID`);
  return m.slice(1).join("-").toLowerCase();
}

async function createServerId(path: string): Promise<string> {
  const id = randomUUID();
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
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
    throw new KeyManagerError("internal", `failed to persist server ID on path: ${(e as Error).message}`);
  }
  return id;
}
