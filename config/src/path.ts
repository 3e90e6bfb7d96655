/**
 * A position in a configuration tree. A string is an object key, a number a
 * list index, and `{ label }` a block label or map key, printed the way HCL
 * writes it: `plugins.KeyManager "disk".plugin_data`.
 */
export type PathSegment = string | number | { readonly label: string };

export type Path = readonly PathSegment[];

export function formatPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string") out += out === "" ? segment : `.${segment}`;
    else out += out === "" ? JSON.stringify(segment.label) : ` ${JSON.stringify(segment.label)}`;
  }
  return out;
}

/** The names along a path (keys and labels), without list indexes. */
export function pathNames(path: Path): string[] {
  const names: string[] = [];
  for (const segment of path) {
    if (typeof segment === "string") names.push(segment);
    else if (typeof segment === "object") names.push(segment.label);
  }
  return names;
}
