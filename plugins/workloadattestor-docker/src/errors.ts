/**
 * Errors of the attestor, as values with a kind; `toRpcError` (used by
 * index.ts, the edge) is the one place a kind becomes a gRPC code.
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
import { Code, RpcError } from "@signet/plugin-sdk";

export type AttestErrorKind = "invalid-argument" | "failed-precondition" | "permission-denied" | "internal" | "unknown" | "cancelled";

export class AttestError extends Error {
  override readonly name = "AttestError";
  constructor(
    readonly kind: AttestErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const codes: Readonly<Record<AttestErrorKind, Code>> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "failed-precondition": Code.FAILED_PRECONDITION,
  "permission-denied": Code.PERMISSION_DENIED,
  internal: Code.INTERNAL,
  unknown: Code.UNKNOWN,
  cancelled: Code.CANCELLED,
};

/** Kinds to status codes; anything unexpected is Internal with its message. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof AttestError) return new RpcError(codes[e.kind], e.message);
  return new RpcError(Code.INTERNAL, e instanceof Error ? e.message : String(e));
}

/** The caller went away (cancel or deadline) while we were waiting: Go's words for it. */
export class CallAborted extends AttestError {
  constructor() {
    super("cancelled", "context canceled");
  }
}

/**
 * A Node file-system error in the words Go's os package uses, as SPIRE
 * prints them: "open /proc/42/cgroup: permission denied" rather than
 * "EACCES: permission denied, open '/proc/42/cgroup'".
 */
export function goErrorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (!code || !syscall) return e.message;
  const description = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2).split(`, ${syscall}`)[0] : e.message;
  return path === undefined ? `${syscall}: ${description}` : `${syscall} ${path}: ${description}`;
}

/** Whether a failed read means the file is not there (Go's fs.ErrNotExist). */
export function isNotExist(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Go's %q for the ASCII text we quote (cgroup lines, IDs, paths). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
