/**
 * User and group names for IDs, from /etc/passwd and /etc/group, read the
 * way Go's os/user does without cgo (what SPIRE's user.LookupId and
 * user.LookupGroupId fall back to): the first matching line wins; blank
 * lines, "#" comments and NIS "+"/"-" entries are skipped; a name that
 * cannot be found is not an error, the selector is just left out.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Names as of one read of the files: one attestation looks up several groups in one snapshot. */
export interface Names {
  userName(uid: string): string | undefined;
  groupName(gid: string): string | undefined;
}

/** Reads a fresh snapshot of the account files (accounts change while an agent runs). */
export type LoadNames = () => Promise<Names>;

export function etcNames(etcDir = "/etc"): LoadNames {
  const users = cachedFile(join(etcDir, "passwd"), userIndex);
  const groups = cachedFile(join(etcDir, "group"), groupIndex);
  return async () => {
    const [u, g] = [users(), groups()];
    return {
      userName: (uid) => u.get(uid),
      groupName: (gid) => g.get(gid),
    };
  };
}

/**
 * A small file's parsed contents, read and parsed again only when the file
 * changed (inode, size, mtime or ctime), so every attestation sees the
 * current users and groups without re-reading /etc/passwd and /etc/group
 * each time. A missing or unreadable file parses as empty.
 */
function cachedFile<T>(file: string, parse: (text: string) => T): () => T {
  const empty = parse("");
  let stamp = "";
  let parsed = empty;
  return () => {
    let now: string;
    try {
      const st = statSync(file, { bigint: true });
      now = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      stamp = "";
      parsed = empty;
      return parsed;
    }
    if (now !== stamp) {
      try {
        parsed = parse(readFileSync(file, "utf8"));
        stamp = now;
      } catch {
        parsed = empty;
        stamp = "";
      }
    }
    return parsed;
  };
}

/** name:password:uid:gid:gecos:home:shell */
export function findUserName(passwd: string, uid: string): string | undefined {
  return userIndex(passwd).get(uid);
}

/** name:password:gid:members */
export function findGroupName(group: string, gid: string): string | undefined {
  return groupIndex(group).get(gid);
}

/** uid (as written) to the name of the first well-formed passwd line with it. */
function userIndex(passwd: string): Map<string, string> {
  return nameIndex(passwd, 6, (parts) => isInt(parts[2]) && isInt(parts[3]));
}

/** gid (as written) to the name of the first well-formed group line with it. */
function groupIndex(group: string): Map<string, string> {
  return nameIndex(group, 4, (parts) => isInt(parts[2]));
}

function nameIndex(text: string, minFields: number, wellFormed: (parts: readonly string[]) => boolean): Map<string, string> {
  const index = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parts = line.split(":");
    const name = parts[0] ?? "";
    if (parts.length < minFields || name === "" || name.startsWith("+") || name.startsWith("-")) continue;
    if (wellFormed(parts) && !index.has(parts[2]!)) index.set(parts[2]!, name);
  }
  return index;
}

const isInt = (s: string | undefined) => s !== undefined && /^[+-]?\d+$/.test(s);
