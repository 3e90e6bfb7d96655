/**
 * /proc/<pid>/cgroup: one "hierarchy-ID:controller-list:cgroup-path" line
 * per hierarchy (cgroup v1), or the single "0::<path>" line of cgroup v2.
 * As in SPIRE, one line without three fields makes the whole file invalid.
 */
import { goQuote } from "./errors.js";
import { scanLines } from "./proc.js";

export interface Cgroup {
  readonly hierarchyId: string;
  readonly controllerList: string;
  readonly groupPath: string;
}

export class CgroupFormatError extends Error {}

export function parseCgroups(text: string): Cgroup[] {
  return scanLines(text).map((line) => {
    // The path may itself hold colons: split on the first two only.
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    if (second < 0) {
      const fields = first < 0 ? 1 : 2;
      throw new CgroupFormatError(`invalid cgroup entry, contains ${fields} colon separated fields but expected at least 3: ${goQuote(line)}`);
    }
    return { hierarchyId: line.slice(0, first), controllerList: line.slice(first + 1, second), groupPath: line.slice(second + 1) };
  });
}
