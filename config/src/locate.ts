/**
 * Best-effort source lines for keys.
 *
 * hcl v1's generic decoding (what js-hcl-parser returns) keeps no positions,
 * so a light scanner walks the source text instead: it skips strings,
 * heredocs and comments, tracks `{ }` and `[ ]` nesting, and records, for
 * every key that starts a statement, the chain of keys and labels leading to
 * it (`plugins KeyManager "disk" {` gives `plugins.KeyManager.disk`). It reads
 * HCL and JSON alike. A lookup answers only when exactly one line matches.
 */
import type { Path } from "./path.js";
import { pathNames } from "./path.js";

export interface ConfigSource {
  /** Shown in messages; omit for text that has no file (plugin configuration). */
  readonly filename?: string;
  readonly text: string;
}

export interface KeyOccurrence {
  /** Keys and labels from the root, e.g. ["plugins", "KeyManager", "disk"]. */
  readonly chain: readonly string[];
  readonly line: number;
  readonly column: number;
  /** Offset in the source text, for ordering. */
  readonly offset: number;
}

const cache = new WeakMap<ConfigSource, readonly KeyOccurrence[]>();

/** Every key occurrence in source order (cached per source object). */
export function keyOccurrences(source: ConfigSource): readonly KeyOccurrence[] {
  let found = cache.get(source);
  if (found === undefined) {
    found = scanKeys(source.text);
    cache.set(source, found);
  }
  return found;
}

/** The distinct lines where the key at `path` is written, in source order. */
export function keyLines(source: ConfigSource, path: Path): number[] {
  const names = pathNames(path);
  if (names.length === 0) return [];
  const lines = new Set<number>();
  for (const occurrence of keyOccurrences(source)) {
    if (chainEquals(occurrence.chain, names)) lines.add(occurrence.line);
  }
  if (lines.size > 0) return [...lines];
  // The scanner lost track of the nesting: fall back to the last key alone,
  // written at the start of exactly one line.
  return lastKeyLines(source.text, names[names.length - 1]!);
}

/** The line of the key at `path`, when exactly one line matches. */
export function keyLine(source: ConfigSource | undefined, path: Path): number | undefined {
  if (source === undefined) return undefined;
  const lines = keyLines(source, path);
  return lines.length === 1 ? lines[0] : undefined;
}

function chainEquals(chain: readonly string[], names: readonly string[]): boolean {
  if (chain.length !== names.length) return false;
  return chain.every((name, i) => name.toLowerCase() === names[i]!.toLowerCase());
}

function lastKeyLines(text: string, key: string): number[] {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^[ \\t]*(?:${escaped}|"${escaped}")(?=[ \\t]*[={:"]|[ \\t]+[A-Za-z_{])`, "i");
  const lines: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (pattern.test(line)) lines.push(i + 1);
  });
  return lines.length === 1 ? lines : [];
}

interface Frame {
  readonly kind: "object" | "list";
  readonly chain: readonly string[];
}

interface PendingKey {
  readonly name: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export function scanKeys(text: string): KeyOccurrence[] {
  const occurrences: KeyOccurrence[] = [];
  const frames: Frame[] = [{ kind: "object", chain: [] }];
  let pending: PendingKey[] = [];
  let expectValue = false; // after "=" or ":" in an object
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const top = () => frames[frames.length - 1]!;
  const chainOf = (keys: readonly PendingKey[]) => [...top().chain, ...keys.map((k) => k.name)];
  const open = (kind: Frame["kind"]) => {
    frames.push({ kind, chain: top().kind === "list" ? top().chain : chainOf(pending) });
    pending = [];
    expectValue = false;
  };
  const close = () => {
    if (frames.length > 1) frames.pop();
    pending = [];
    expectValue = false;
  };
  const word = (name: string, start: number, startLine: number, startColumn: number) => {
    if (top().kind === "list" || expectValue) {
      pending = [];
      expectValue = false;
      return;
    }
    const key = { name, line: startLine, column: startColumn, offset: start };
    pending = [...pending, key];
    occurrences.push({ chain: chainOf(pending), line: startLine, column: startColumn, offset: start });
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (; i < stop; i++) {
        if (text[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
      }
      continue;
    }
    const column = i - lineStart + 1;
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"' && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
      const raw = text.slice(start, Math.min(i + 1, text.length));
      i++;
      word(unquote(raw), start, line, column);
      continue;
    }
    if (c === "<" && text[i + 1] === "<") {
      // heredoc value: <<ANCHOR or <<-ANCHOR, up to a line holding only the anchor
      const header = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)[^\n]*/.exec(text.slice(i));
      i += header === null ? 2 : header[0].length;
      if (header !== null) {
        const anchor = header[1]!;
        while (i < text.length) {
          const nl = text.indexOf("\n", i);
          if (nl === -1) {
            i = text.length;
            break;
          }
          i = nl + 1;
          line++;
          lineStart = i;
          const end = text.indexOf("\n", i);
          const body = text.slice(i, end === -1 ? text.length : end);
          if (body.trim() === anchor) {
            i = end === -1 ? text.length : end;
            break;
          }
        }
      }
      pending = [];
      expectValue = false;
      continue;
    }
    if (c === "{") {
      i++;
      open("object");
      continue;
    }
    if (c === "[") {
      i++;
      open("list");
      continue;
    }
    if (c === "}" || c === "]") {
      i++;
      close();
      continue;
    }
    if (c === "=" || c === ":") {
      i++;
      expectValue = top().kind === "object";
      continue;
    }
    if (c === ",") {
      i++;
      if (top().kind === "object") pending = [];
      continue;
    }
    const start = i;
    while (i < text.length && !/[\s{}[\]=:,"#]/.test(text[i]!) && !(text[i] === "/" && "/*".includes(text[i + 1] ?? ""))) i++;
    if (i === start) i++; // a stray character: skip it
    else word(text.slice(start, i), start, line, column);
  }
  return occurrences;
}

function unquote(raw: string): string {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === "string") return value;
  } catch {
    // not JSON-compatible escapes (e.g. HCL's \x41): keep the inside as written
  }
  return raw.replace(/^"/, "").replace(/"$/, "");
}
