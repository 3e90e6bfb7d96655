/**
 * Replacing a file so that a crash or a failed write leaves either the old file or the new one,
 * never half of either: write a temporary file beside it (created exclusively, mode 0600 unless
 * told otherwise), fsync it, rename it over the target, then fsync the directory so the rename
 * survives a power loss. What SPIRE's diskutil does for the files a plugin keeps (key files,
 * server IDs).
 */
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface WriteFileAtomicOptions {
  /** Permission bits of the new file; 0o600 (owner read/write) by default, as key material wants. */
  readonly mode?: number;
}

/**
 * Writes `data` to `path` atomically. On failure the temporary file is removed, the old file (if
 * any) is untouched, and the file system's error is thrown as it came, for the caller to word.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const file = await open(temporary, "wx", options.mode ?? 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
}

/** Makes the rename durable. Best effort: some file systems cannot fsync a directory, and the file is already whole. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The new file is in place either way; only its durability across a power loss is in question.
  }
}
