/**
 * Where the attestor reads a process: `<rootDir>/proc/<pid>/cgroup` and
 * `<rootDir>/proc/<pid>/mountinfo` (of the workload; of a container's init
 * process, its cgroup file only), as SPIRE does with its root directory
 * ("/" in production; tests point it at fixtures under src/testing/).
 *
 * Reads are capped: a workload can grow its own mountinfo (mount
 * namespaces), and an agent must not buffer without limit on its behalf.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";

/** Far above any real host (thousands of mounts fit in a few hundred KiB). */
export const maxProcFileBytes = 4 * 1024 * 1024;

export interface ProcFs {
  /** `<rootDir>/proc/<pid>`, for messages. */
  pidPath(pid: number): string;
  cgroupPath(pid: number): string;
  mountinfoPath(pid: number): string;
  /** The file's text; rejects with the file-system error (ENOENT when the process is gone). */
  read(path: string): Promise<string>;
}

export class ProcFileTooLarge extends Error {
  constructor(path: string, limit: number) {
    super(`read ${path}: file is larger than ${limit} bytes`);
  }
}

export function procFs(rootDir = "/", limit = maxProcFileBytes): ProcFs {
  const path = (pid: number, last: string) => join(rootDir, "proc", String(pid), last);
  return {
    pidPath: (pid) => join(rootDir, "proc", String(pid)),
    cgroupPath: (pid) => path(pid, "cgroup"),
    mountinfoPath: (pid) => path(pid, "mountinfo"),
    read: (file) => readCapped(file, limit),
  };
}

/** procfs reports size 0, so read until EOF, refusing more than `limit` bytes. */
async function readCapped(path: string, limit: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw new ProcFileTooLarge(path, limit);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Lines as Go's bufio.Scanner yields them: no final empty line for a trailing newline, "\r" dropped. */
export function scanLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}
