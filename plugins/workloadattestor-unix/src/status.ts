/**
 * /proc/<pid>/status, whose lines read "Key:\tvalue…". The unix attestor
 * takes three of them:
 *
 *   Uid:    <real> <effective> <saved> <filesystem>
 *   Gid:    <real> <effective> <saved> <filesystem>
 *   Groups: <supplementary gid> …
 *
 * As SPIRE does (through gopsutil), the IDs used are the effective ones: the
 * second field, or the only one when a line has a single field.
 */
export interface ProcessStatus {
  /** The Uid line's fields (empty when there is no such line). */
  readonly uids: readonly string[];
  readonly gids: readonly string[];
  /** Supplementary group IDs, as written (empty when none or no such line). */
  readonly groups: readonly string[];
}

export function parseStatus(text: string): ProcessStatus {
  const fields = new Map<string, string[]>();
  let at = 0;
  while (at < text.length && fields.size < wanted.size) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    // Most of the ~60 lines are of no interest: only those whose key could be one of ours are split.
    if (mayBeWanted(text.charCodeAt(at))) {
      const line = text.slice(at, end);
      const colon = line.indexOf(":");
      if (colon >= 0) {
        const key = line.slice(0, colon).trim().toLowerCase();
        if (wanted.has(key) && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim().split(/\s+/).filter((f) => f !== ""));
      }
    }
    at = end + 1;
  }
  return { uids: fields.get("uid") ?? [], gids: fields.get("gid") ?? [], groups: fields.get("groups") ?? [] };
}

const wanted = new Set(["uid", "gid", "groups"]);

/**
 * Whether a line starting with this character can hold a wanted key: u, U, g
 * or G, or anything trim() may remove before the key (ASCII white space, and
 * any non-ASCII character to be safe).
 */
function mayBeWanted(c: number): boolean {
  return c === 0x75 || c === 0x55 || c === 0x67 || c === 0x47 || (c >= 0x09 && c <= 0x0d) || c === 0x20 || c >= 0x80;
}

/**
 * The effective ID from a Uid/Gid line's fields, as a decimal string, or an
 * error text in SPIRE's words. `what` is "UIDs" or "GIDs".
 */
export function effectiveId(fields: readonly string[], what: "UIDs" | "GIDs"): { id: string } | { error: string } {
  if (fields.length === 0) return { error: `${what} lookup: no ${what} for process` };
  const bad = fields.find((f) => !/^\d{1,10}$/.test(f) || Number(f) > 0xffffffff);
  if (bad !== undefined) return { error: `${what} lookup: invalid ID ${JSON.stringify(bad)} in process status` };
  return { id: String(Number(fields.length === 1 ? fields[0] : fields[1])) };
}
