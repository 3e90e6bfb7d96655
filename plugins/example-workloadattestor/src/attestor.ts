/**
 * What the plugin knows how to do, with no gRPC in sight: given a PID, find
 * the process's user and group, and turn them into selector values. Keeping
 * this apart from index.ts lets the unit tests call it directly.
 *
 * A selector reaches the registration entries as "<plugin name>:<value>";
 * the host adds the plugin name (the label of the WorkloadAttestor block),
 * so this plugin, configured as WorkloadAttestor "example", yields
 * "example:uid:1000" and "example:gid:1000".
 */
import { readFile } from "node:fs/promises";
import type { Settings } from "./config.js";

export interface ProcessIds {
  readonly uid: number;
  readonly gid: number;
}

/** How the attestor reads a process: /proc by default, something else in tests. */
export type ReadStatus = (pid: number) => Promise<string | undefined>;

export class ExampleAttestor {
  constructor(
    private readonly settings: Settings,
    private readonly readStatus: ReadStatus = readProcStatus,
  ) {}

  /**
   * Selector values for `pid`, or none when the process is not ours to
   * judge: it does not exist (any more), or its user is not allowed. "Not
   * mine" must be an answer, not an error: the agent asks every attestor
   * about every workload and an error would be logged for each.
   */
  async attest(pid: number): Promise<string[]> {
    if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`pid must be a positive integer, got ${pid}`);
    const status = await this.readStatus(pid);
    if (status === undefined) return [];
    const ids = parseStatus(status);
    if (!ids) return [];
    const { allowedUids, selectorPrefix } = this.settings;
    if (allowedUids && !allowedUids.has(ids.uid)) return [];
    const prefix = selectorPrefix ? `${selectorPrefix}:` : "";
    return [`${prefix}uid:${ids.uid}`, `${prefix}gid:${ids.gid}`];
  }
}

/**
 * The effective UID and GID from /proc/<pid>/status, whose lines read
 * "Uid:\t<real>\t<effective>\t<saved>\t<filesystem>". The effective IDs are
 * what the kernel checks access with, and what SPIRE's unix attestor uses.
 */
export function parseStatus(status: string): ProcessIds | undefined {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+(\\d+)`, "m").exec(status);
    return m ? Number(m[2]) : undefined;
  };
  const uid = field("Uid");
  const gid = field("Gid");
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** The status file, or undefined when there is no such process (or it is gone by now). */
async function readProcStatus(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/status`, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return undefined;
    throw e;
  }
}
