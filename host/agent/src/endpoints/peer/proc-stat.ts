/**
 * What /proc says about a process, for the fallback liveness check (kernels
 * without SO_PEERPIDFD): its start time (field 22 of /proc/<pid>/stat, in
 * clock ticks since boot) and the owner of /proc/<pid>. A PID that is reused
 * gets a new start time.
 */
import { readFileSync, statSync } from "node:fs";

/** Field 22 of /proc/<pid>/stat; throws when the process is gone or the line is malformed. */
export function processStartTime(pid: number): string {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (err) {
    throw new Error(`could not read caller stat: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return startTimeOf(line);
}

/**
 * The comm field (2) is parenthesised and may itself hold spaces and
 * parentheses, so the fields after it are counted from the last ")".
 */
export function startTimeOf(statLine: string): string {
  const open = statLine.indexOf("(");
  const close = statLine.lastIndexOf(")");
  if (open === -1 || close === -1 || close < open) throw new Error("bad stat data: task name is not parenthesized");
  // Fields 3.. follow ") "; starttime is field 22, so index 19 of that tail.
  const rest = statLine.slice(close + 2).split(" ");
  const startTime = rest[19];
  if (rest.length < 36 || startTime === undefined || !/^\d+$/.test(startTime)) throw new Error("bad stat data or unsupported platform");
  return startTime;
}

/** uid and gid owning /proc/<pid> (the process's effective ids). */
export function processOwner(pid: number): { uid: number; gid: number } {
  const stat = statSync(`/proc/${pid}`);
  return { uid: stat.uid, gid: stat.gid };
}
