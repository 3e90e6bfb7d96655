/**
 * What the attestor adds to the SDK's PluginError (which carries the kind and
 * is the one place a kind becomes a gRPC code): a cancelled call in Go's words,
 * and Go's wording helpers for the messages SPIRE prints.
 *
 * The codes are SPIRE's: the container locator answers Internal (unreadable
 * or malformed /proc files) and FailedPrecondition (two containers for one
 * process); everything SPIRE returns as a plain Go error (Docker API
 * failures, the legacy cgroup matchers) reaches the host as Unknown, so
 * those have the kind "unknown" here. Two answers are ours, from the
 * container membership check SPIRE does not make (container-membership.ts):
 * PermissionDenied for a workload outside the container its cgroup path
 * names, FailedPrecondition when that cannot be checked (the container's
 * init process is not visible, or the container is not running).
 */
import { PluginError } from "@signet/plugin-sdk";

/** The caller went away (cancel or deadline) while we were waiting: Go's words for it. */
export class CallAborted extends PluginError {
  constructor() {
    super("cancelled", "context canceled");
  }
}

/** Whether a failed read means the file is not there (Go's fs.ErrNotExist). */
export function isNotExist(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Go's %q for the ASCII text we quote (cgroup lines, IDs, paths). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
