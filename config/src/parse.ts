/**
 * Configuration text to a plain tree, with hcl v1 semantics.
 *
 * HCL goes through js-hcl-parser (hashicorp/hcl v1, the parser SPIRE uses,
 * compiled to JavaScript). It is 1.5 MB of GopherJS, so it is loaded on the
 * first HCL parse only; JSON text (hcl v1 treats text whose first non-space
 * character is `{` as JSON) is parsed with JSON.parse and brought to the tree
 * shape hcl v1 produces, so plugins that receive JSON never load it.
 */
import { ConfigError } from "./errors.js";
import { findJsonSyntaxError, lineColumn } from "./json-syntax.js";
import { keyLines } from "./locate.js";
import type { ConfigObject, ConfigValue } from "./tree.js";
import { isConfigObject } from "./tree.js";

export interface ParseOptions {
  /** Named in error messages. */
  readonly filename?: string;
}

export async function parseConfigText(text: string, options: ParseOptions = {}): Promise<ConfigObject> {
  if (isJsonText(text)) return parseJsonConfigText(text, options);
  const hcl = await loadHcl();
  return parseHclOutput(hcl.parse(text), text, options);
}

/** hcl v1's rule: JSON when the first non-space character is `{`. */
export function isJsonText(text: string): boolean {
  return /^\s*\{/.test(text);
}

/** The JSON half of parseConfigText; synchronous because it never needs the HCL parser. */
export function parseJsonConfigText(text: string, options: ParseOptions = {}): ConfigObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    const { offset, reason } = findJsonSyntaxError(text);
    const { line, column } = lineColumn(text, offset);
    throw new ConfigError({ file: options.filename, line, column, detail: reason, cause });
  }
  if (!isConfigObject(parsed)) {
    throw new ConfigError({ file: options.filename, line: 1, column: 1, detail: "expected a JSON object at the top level" });
  }
  return hclShapeObject(parsed);
}

/**
 * hcl v1's shape for a JSON object: every object that is the value of a key
 * becomes a one-element list (as a block would), objects inside lists stay as
 * they are, and null becomes "" (hcl v1 reads JSON null as an empty string).
 */
function hclShapeObject(object: Record<string, unknown>): ConfigObject {
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => [key, isConfigObject(value) ? [hclShapeObject(value)] : hclShapeValue(value)]),
  );
}

function hclShapeValue(value: unknown): ConfigValue {
  if (value === null) return "";
  if (Array.isArray(value)) return value.map(hclShapeValue);
  if (isConfigObject(value)) return hclShapeObject(value);
  return value as ConfigValue;
}

interface HclModule {
  parse(text: string): string;
}

let hclModule: Promise<HclModule> | undefined;

function loadHcl(): Promise<HclModule> {
  hclModule ??= import("js-hcl-parser").then((m) => {
    const candidate = m as unknown as { parse?: unknown; default?: { parse?: unknown } };
    const mod = typeof candidate.parse === "function" ? candidate : candidate.default;
    if (mod === undefined || typeof mod.parse !== "function") throw new Error("js-hcl-parser: no parse function");
    return mod as HclModule;
  });
  return hclModule;
}

const FAILURE_PREFIX = "unable to parse JSON: ";

function parseHclOutput(output: string, text: string, options: ParseOptions): ConfigObject {
  if (output.startsWith(FAILURE_PREFIX)) throw hclError(output.slice(FAILURE_PREFIX.length), text, options);
  const parsed: unknown = JSON.parse(output);
  if (!isConfigObject(parsed)) throw new ConfigError({ file: options.filename, detail: "expected an object at the top level" });
  return parsed as ConfigObject;
}

/**
 * hcl v1 errors look like `At 4:2: object expected closing RBRACE got: EOF`,
 * sometimes nested (`At 3:1: error while trying to parse object within list:
 * At 5:9: ...`), sometimes `At -:` or no position at all. The innermost
 * position is the one that points at the problem.
 */
function hclError(raw: string, text: string, options: ParseOptions): ConfigError {
  let message = raw;
  let line: number | undefined;
  let column: number | undefined;
  for (;;) {
    const positioned = /^(?:At )?(\d+):(\d+): ([\s\S]*)$/.exec(message);
    if (positioned !== null) {
      line = Number(positioned[1]);
      column = Number(positioned[2]);
      message = positioned[3]!;
      continue;
    }
    const unpositioned = /^At -: ([\s\S]*)$/.exec(message);
    if (unpositioned !== null) {
      message = unpositioned[1]!;
      continue;
    }
    const nested = /^(error while trying to parse (?:object|list) within list): ([\s\S]*)$/.exec(message);
    if (nested !== null && /^(?:At )?(?:\d+:\d+|-): /.test(nested[2]!)) {
      message = nested[2]!;
      continue;
    }
    break;
  }

  // Mixing `X { name { ... } }` and `X "name" { ... }` in one scope: hcl v1
  // cannot decode that, and neither can SPIRE.
  const mixed = /^root((?:\.[^.[\]]+(?:\[\d+\])?)+): map must have string keys$/.exec(message);
  if (mixed !== null) {
    const names = mixed[1]!.split(".").slice(1).map((part) => part.replace(/\[\d+\]$/, ""));
    const name = names[names.length - 1]!;
    const lines = keyLines({ text }, names);
    return new ConfigError({
      file: options.filename,
      line: lines.length === 1 ? lines[0] : undefined,
      path: names.join("."),
      detail:
        `"${name}" is written both as a nested block (${name} { name { ... } }) and with a label (${name} "name" { ... })` +
        `${lines.length > 1 ? ` on lines ${lines.join(", ")}` : ""}; ` +
        `hcl v1 cannot decode the two forms side by side: write every one as ${name} "name" { ... }`,
    });
  }
  const blockAndValue = /^(?:root\.(\S+): unknown type|unknown slice type:) \*ast\.\w+$/.exec(message);
  if (blockAndValue !== null) {
    return new ConfigError({
      file: options.filename,
      line,
      column,
      path: blockAndValue[1],
      detail: "the same key is given both as a block and as a value",
    });
  }
  return new ConfigError({ file: options.filename, line, column, detail: cleanHclMessage(message) });
}

const TOKEN_NAMES: Readonly<Record<string, string>> = {
  LBRACE: '"{"',
  RBRACE: '"}"',
  LBRACK: '"["',
  RBRACK: '"]"',
  ASSIGN: '"="',
  COMMA: '","',
  PERIOD: '"."',
  ADD: '"+"',
  SUB: '"-"',
  EOF: "end of file",
  IDENT: "identifier",
  STRING: "string",
  NUMBER: "number",
  FLOAT: "number",
  BOOL: "boolean",
  HEREDOC: "heredoc",
  ILLEGAL: "illegal token",
};

function cleanHclMessage(message: string): string {
  const unclosed = /^object expected closing RBRACE got: (\w+)$/.exec(message);
  if (unclosed !== null) return `expected "}" to close the block, got ${TOKEN_NAMES[unclosed[1]!] ?? unclosed[1]}`;
  const unknownToken = /^Unknown token: \S+ (\w+) ([\s\S]*)$/.exec(message);
  if (unknownToken !== null) {
    const [, type, text] = unknownToken as unknown as [string, string, string];
    if (type === "IDENT") return `unexpected identifier ${JSON.stringify(text)} (strings must be quoted)`;
    const name = TOKEN_NAMES[type] ?? type;
    return name.startsWith('"') ? `unexpected ${name}` : `unexpected ${name} ${JSON.stringify(text)}`;
  }
  return message.replace(/\b(LBRACE|RBRACE|LBRACK|RBRACK|ASSIGN|COMMA|PERIOD|ADD|SUB|EOF|IDENT|STRING|NUMBER|FLOAT|BOOL|HEREDOC|ILLEGAL)\b/g, (t) => TOKEN_NAMES[t]!);
}
