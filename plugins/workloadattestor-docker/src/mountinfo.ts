/**
 * /proc/<pid>/mountinfo, the two fields the container locator reads: the
 * mount's root (field 4) and its filesystem type (first field after "-").
 * Fields are split on single spaces, as SPIRE does, so an empty mount
 * source ("tmpfs  rw") stays an empty field instead of shifting the rest.
 * Roots are kept as the kernel writes them (spaces escaped as \040).
 */
import { scanLines } from "./proc.js";

export interface MountInfo {
  readonly root: string;
  readonly fsType: string;
}

export class MountInfoFormatError extends Error {}

export function parseMountInfo(text: string): MountInfo[] {
  return scanLines(text)
    .filter((line) => line !== "")
    .map(parseLine);
}

function parseLine(line: string): MountInfo {
  const fields = line.split(" ");
  const separator = fields.indexOf("-");
  if (separator < 0) throw new MountInfoFormatError(`missing separator in mountinfo line: ${line}`);
  // mount ID, parent ID, major:minor, root, mount point, options, then optional tags.
  if (separator < 6) throw new MountInfoFormatError(`expected at least 6 fields before separator in mountinfo line: ${line}`);
  const fsType = fields[separator + 1];
  if (!fsType) throw new MountInfoFormatError(`missing filesystem type in mountinfo line: ${line}`);
  return { root: fields[3]!, fsType };
}
