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
  const passwd = cachedFile(join(etcDir, "passwd"));
  const group = cachedFile(join(etcDir, "group"));
  return async () => {
    const [p, g] = [passwd(), group()];
    return {
      userName: (uid) => findUserName(p, uid),
      groupName: (gid) => findGroupName(g, gid),
    };
  };
}

/**
 * A small file read again only when it changed (inode, size or mtime), so
 * every attestation sees the current users and groups without re-reading
 * /etc/passwd and /etc/group each time. A missing file reads as empty.
 */
function cachedFile(file: string): () => string {
  let stamp = "";
  let text = "";
  return () => {
    let now: string;
    try {
      const st = statSync(file, { bigint: true });
      now = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      stamp = "";
      text = "";
      return "";
    }
    if (now !== stamp) {
      try {
        text = readFileSync(file, "utf8");
        stamp = now;
      } catch {
        text = "";
        stamp = "";
      }
    }
    return text;
  };
}

/** name:password:uid:gid:gecos:home:shell */
export function findUserName(passwd: string, uid: string): string | undefined {
  return findName(passwd, 6, (parts) => parts[2] === uid && isInt(parts[2]) && isInt(parts[3]));
}

/** name:password:gid:members */
export function findGroupName(group: string, gid: string): string | undefined {
  return findName(group, 4, (parts) => parts[2] === gid && isInt(parts[2]));
}

function findName(text: string, minFields: number, matches: (parts: readonly string[]) => boolean): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parts = line.split(":");
    const name = parts[0] ?? "";
    if (parts.length < minFields || name === "" || name.startsWith("+") || name.startsWith("-")) continue;
    if (matches(parts)) return name;
  }
  return undefined;
}

const isInt = (s: string | undefined) => s !== undefined && /^[+-]?\d+$/.test(s);

/** A missing or unreadable account file means no names, as a failed lookup does in SPIRE. */
