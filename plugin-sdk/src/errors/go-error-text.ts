/**
 * A Node file-system error in the words Go's os package uses, as SPIRE
 * prints them: "open /proc/42/cgroup: permission denied" rather than
 * "EACCES: permission denied, open '/proc/42/cgroup'". Errors without an
 * errno code and syscall keep their message; non-Errors become their text.
 */
export function goErrorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (!code || !syscall) return e.message;
  const description = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2).split(`, ${syscall}`)[0] : e.message;
  return path === undefined ? `${syscall}: ${description}` : `${syscall} ${path}: ${description}`;
}
