/**
 * decode(): runs a schema over a tree, collects unknown keys, and builds
 * ConfigErrors that carry the file, the key path and (when certain) the line.
 */
import { ConfigError } from "./errors.js";
import type { ConfigSource } from "./locate.js";
import { keyLine, keyLines } from "./locate.js";
import type { Path } from "./path.js";
import { formatPath } from "./path.js";
import type { AnySchema, Infer } from "./schema.js";
import type { ConfigValue } from "./tree.js";

export interface UnknownKey {
  /** `server.trust_domian` */
  readonly path: string;
  readonly segments: Path;
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** The closest known key, when one is close. */
  readonly suggestion: string | undefined;
  /** Ready to log: `server.conf:7: server.trust_domian: unknown key (did you mean "trust_domain"?)`. */
  readonly message: string;
}

export interface DecodeOptions {
  /** Where the decoded value sits in the file, e.g. ["server"]; prefixes every path. */
  readonly at?: Path;
  /** The text the tree came from, for file names and (best-effort) line numbers. */
  readonly source?: ConfigSource;
  /**
   * Keys no schema names. "error" (the default, as SPIRE's binaries do)
   * decodes everything first, then throws one ConfigError naming them all;
   * "ignore" drops them; a function receives each one (to log a warning).
   */
  readonly unknownKeys?: "error" | "ignore" | ((key: UnknownKey) => void);
}

export function decode<S extends AnySchema>(schema: S, tree: unknown, options: DecodeOptions = {}): Infer<S> {
  const context = new DecodeContext(options.source);
  const path = options.at ?? [];
  const value =
    tree === undefined ? schema.absent(context, path) : schema.decodeValue(tree as ConfigValue, context, path);
  const mode = options.unknownKeys ?? "error";
  // hcl v1's tree sorts keys; report in the order the file has them.
  const unknown = context.unknown
    .map((key, i) => ({ key, i }))
    .sort((a, b) => (a.key.line ?? Infinity) - (b.key.line ?? Infinity) || a.i - b.i)
    .map(({ key }) => key);
  if (mode === "error" && unknown.length > 0) throw unknownKeysError(unknown);
  if (typeof mode === "function") unknown.forEach(mode);
  return value as Infer<S>;
}

/** One ConfigError naming every unknown key (for callers that collected them). */
export function unknownKeysError(keys: readonly UnknownKey[]): ConfigError {
  const first = keys[0];
  if (first === undefined) throw new Error("unknownKeysError: no keys");
  if (keys.length === 1) {
    return new ConfigError({
      file: first.file,
      line: first.line,
      path: first.path,
      detail: `unknown key${first.suggestion === undefined ? "" : ` (did you mean "${first.suggestion}"?)`}`,
    });
  }
  const list = keys.map((k) => (k.line === undefined ? k.path : `${k.path} (line ${k.line})`)).join(", ");
  return new ConfigError({ file: first.file, detail: `unknown keys: ${list}` });
}

/** State shared by one decode() call. */
export class DecodeContext {
  readonly unknown: UnknownKey[] = [];

  constructor(readonly source: ConfigSource | undefined) {}

  error(path: Path, detail: string, cause?: unknown): ConfigError {
    return new ConfigError({
      file: this.source?.filename,
      line: keyLine(this.source, path),
      path: formatPath(path),
      detail,
      cause,
    });
  }

  /** Lines where the key at `path` is written (for "set more than once"). */
  lines(path: Path): number[] {
    return this.source === undefined ? [] : keyLines(this.source, path);
  }

  addUnknown(path: Path, known: readonly string[]): void {
    const name = path[path.length - 1];
    const suggestion = typeof name === "string" ? closest(name, known) : undefined;
    const line = keyLine(this.source, path);
    const file = this.source?.filename;
    const formatted = formatPath(path);
    const location = file === undefined ? (line === undefined ? "" : `line ${line}: `) : `${file}${line === undefined ? "" : `:${line}`}: `;
    this.unknown.push({
      path: formatted,
      segments: path,
      file,
      line,
      suggestion,
      message: `${location}${formatted}: unknown key${suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`}`,
    });
  }
}

/** The known key within edit distance 2 of `name`, if exactly one is closest. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
