/**
 * Errors of the attestor, as values with a kind; index.ts maps the kind to
 * a gRPC code in one place. Messages are SPIRE's ("UIDs lookup: …",
 * "SHA256 digest: …"), which hosts show after "workloadattestor(unix): ".
 */
export type AttestErrorKind = "invalid-argument" | "internal";

export class AttestError extends Error {
  constructor(
    readonly kind: AttestErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "AttestError";
  }
}

/**
 * A Node file-system error in the words Go's os package uses, as SPIRE
 * prints them: "open /proc/42/exe: permission denied" rather than
 * "EACCES: permission denied, open '/proc/42/exe'".
 */
export function goErrorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (!code || !syscall) return e.message;
  const description = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2).split(`, ${syscall}`)[0] : e.message;
  return path === undefined ? `${syscall}: ${description}` : `${syscall} ${path}: ${description}`;
}

/** Whether a failed /proc read means the process is not there (any more). */
export function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ESRCH";
}
