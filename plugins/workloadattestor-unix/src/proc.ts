/**
 * Where the attestor reads a process: procfs, at $HOST_PROC or /proc (the
 * variable SPIRE and gopsutil honour, for agents that see the host's procfs
 * mounted elsewhere, e.g. /host/proc in a container).
 */
import { readFileSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { join } from "node:path";

export interface ProcFs {
  /** The text of <proc>/<pid>/status; rejects with the file-system error. */
  readStatus(pid: number): Promise<string>;
  /** The target of <proc>/<pid>/exe: the binary's path as the process sees it (inside its container, if any). */
  readExe(pid: number): Promise<string>;
  /**
   * <proc>/<pid>/exe itself. Opening it reaches the binary even when it lives
   * in another mount namespace (a container) or has been deleted, which is
   * why SPIRE hashes this path rather than the one readExe answers.
   */
  exePath(pid: number): string;
}

export function procFs(root: string = process.env.HOST_PROC || "/proc"): ProcFs {
  const path = (pid: number, last: string) => join(root, String(pid), last);
  return {
    // procfs files are generated in memory: a synchronous read is cheaper than a thread-pool round trip.
    readStatus: async (pid) => readFileSync(path(pid, "status"), "utf8"),
    readExe: (pid) => readlink(path(pid, "exe")),
    exePath: (pid) => path(pid, "exe"),
  };
}
