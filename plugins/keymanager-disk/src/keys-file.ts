/**
 * The keys file, in SPIRE's disk KeyManager format (server and agent alike),
 * so a file either program wrote the other reads:
 *
 *   { "keys": { "<key id>": "<base64 of the PKCS #8 DER private key>", … } }
 *
 * (Go marshals the []byte values as standard base64.) Reading refuses a file
 * that is not exactly that, naming the path and what is wrong; writing
 * replaces the file atomically (the SDK's writeFileAtomic: temporary file
 * beside it, mode 0600, fsync, rename, fsync of the directory), so a crash or
 * a failed write leaves the previous file whole.
 */
import { type KeyObject, createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type KeyEntry, KeyManagerError, keyEntryFromPrivateKey, writeFileAtomic } from "@signet/plugin-sdk";

/** The file could not be read, or is not a keys file: the plugin must not start on it (nor overwrite it). */
export class KeysFileError extends Error {
  override readonly name = "KeysFileError";
}

/** The entries of the keys file at `path`; none if there is no file yet. */
export async function readKeysFile(path: string): Promise<KeyEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new KeysFileError(`unable to read keys file ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  const problem = (what: string) => new KeysFileError(`keys file ${JSON.stringify(path)} is corrupt: ${what}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw problem(`not JSON (${(e as Error).message})`);
  }
  if (!isObject(data)) throw problem(`expected a JSON object with "keys", got ${describe(data)}`);
  const keys = data["keys"];
  // Go decodes an absent or null map as empty; SPIRE itself never writes either.
  if (keys === undefined || keys === null) return [];
  if (!isObject(keys)) throw problem(`"keys" must map key ids to base64 PKCS #8 keys, got ${describe(keys)}`);
  return Object.entries(keys).map(([id, value]) => {
    if (id === "") throw problem("a key has an empty id");
    try {
      return keyEntryFromPrivateKey(id, privateKeyOf(value));
    } catch (e) {
      throw problem(`key ${JSON.stringify(id)}: ${(e as Error).message}`);
    }
  });
}

/**
 * Replaces the keys file at `path` with exactly `entries`. On failure the old
 * file is untouched and the error (kind "internal") names the path.
 */
export async function writeKeysFile(path: string, entries: readonly KeyEntry[]): Promise<void> {
  const keys: Record<string, string> = {};
  for (const { info, privateKey } of [...entries].sort((a, b) => (a.info.id < b.info.id ? -1 : a.info.id > b.info.id ? 1 : 0))) {
    keys[info.id] = privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
  }
  // Tab-indented, as SPIRE writes it (json.MarshalIndent).
  const text = `${JSON.stringify({ keys }, null, "\t")}\n`;
  try {
    await writeFileAtomic(path, text, { mode: 0o600 });
  } catch (e) {
    throw new KeyManagerError("internal", `unable to write keys file ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function privateKeyOf(value: unknown): KeyObject {
  if (typeof value !== "string") throw new Error(`expected a base64 string, got ${describe(value)}`);
  if (value === "" || !base64.test(value)) throw new Error("not standard base64");
  try {
    return createPrivateKey({ key: Buffer.from(value, "base64"), format: "der", type: "pkcs8" });
  } catch {
    // OpenSSL's own message says little more than "unsupported"; what matters is which key.
    throw new Error("not a PKCS #8 private key");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`;
}
