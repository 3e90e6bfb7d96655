/**
 * The attestor's errors are the SDK's PluginError ("invalid-argument" or
 * "internal"); index.ts turns them into statuses. Messages are SPIRE's
 * ("UIDs lookup: …", "SHA256 digest: …"), which hosts show after
 * "workloadattestor(unix): ". What is left here is /proc-specific.
 */

/** Whether a failed /proc read means the process is not there (any more). */
export function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ESRCH";
}
