/**
 * The sha256 selector's digest: SPIRE's util.GetSHA256Digest. `limit` > 0
 * refuses files bigger than that many bytes (checked on the opened file, so
 * the size is that of the file actually hashed); 0 hashes any size. Callers
 * skip hashing altogether for a negative limit.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { goErrorText } from "@signet/plugin-sdk";

const chunkSize = 1 << 20;

/** Hex sha256 of the file at `path`; rejects with an Error whose message is SPIRE's ("SHA256 digest: …"). */
export async function getSha256Digest(path: string, limit: number): Promise<string> {
  const file = await open(path, "r").catch((e: unknown) => {
    throw new Error(`SHA256 digest: ${goErrorText(e)}`);
  });
  try {
    if (limit > 0) {
      const { size } = await file.stat();
      if (size > limit) throw new Error(`SHA256 digest: workload ${path} exceeds size limit (${size} > ${limit})`);
    }
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, chunkSize, null).catch((e: unknown) => {
        throw new Error(`SHA256 digest: ${goErrorText(e)}`);
      });
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest("hex");
  } finally {
    await file.close();
  }
}
