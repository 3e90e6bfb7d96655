/**
 * SPIRE's agent path templates (pkg/common/agentpathtemplate): Go text/template text with
 * missingkey=error, executed over the values a node attestor offers (x509pop: the agent's
 * certificate; aws_iid: the instance's account, region, ID and tags). This is the part of
 * text/template such templates use: text, {{ pipelines }} with field chains (.A.B), map keys,
 * string/number/bool literals, parentheses, `|`, {{- and -}} trimming, comments, and the common
 * string functions of the sprig set SPIRE allows. Control actions (if, range, with, define,
 * variables) are refused when the template is parsed, with a message saying so.
 */
import { createHash } from "node:crypto";

export type TemplateValue = string | number | bigint | boolean | readonly string[] | TemplateStruct | TemplateMap | undefined;
/** A Go struct: reading a field it does not have is an error. */
export interface TemplateStruct {
  readonly kind: "struct";
  readonly type: string;
  readonly fields: Readonly<Record<string, TemplateValue>>;
}
/** A Go map[string]string: reading a missing key is an error (missingkey=error). */
export interface TemplateMap {
  readonly kind: "map";
  readonly entries: ReadonlyMap<string, string>;
}

export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

const templateName = "agent-path";

type Node = { readonly kind: "text"; readonly text: string } | { readonly kind: "action"; readonly pipeline: Pipeline; readonly source: string };
type Pipeline = readonly Command[];
type Command = readonly Operand[];
type Operand =
  | { readonly kind: "field"; readonly path: readonly string[] }
  | { readonly kind: "dot" }
  | { readonly kind: "literal"; readonly value: TemplateValue }
  | { readonly kind: "function"; readonly name: string }
  | { readonly kind: "pipeline"; readonly pipeline: Pipeline };

export class AgentPathTemplate {
  private constructor(
    readonly text: string,
    private readonly nodes: readonly Node[],
  ) {}

  /** Parses `text`; TemplateError with Go's "template: agent-path:…" style on a syntax error. */
  static parse(text: string): AgentPathTemplate {
    return new AgentPathTemplate(text, parseTemplate(text));
  }

  execute(data: TemplateValue): string {
    let out = "";
    for (const node of this.nodes) {
      if (node.kind === "text") out += node.text;
      else out += print(runPipeline(node.pipeline, data, node.source));
    }
    return out;
  }
}

// -----------------------------------------------------------------------------------------------
// Parsing
// -----------------------------------------------------------------------------------------------

function parseTemplate(text: string): Node[] {
  const nodes: Node[] = [];
  let pos = 0;
  let trimNextLeft = false;
  while (pos < text.length) {
    const open = text.indexOf("{{", pos);
    let literal = open < 0 ? text.slice(pos) : text.slice(pos, open);
    if (trimNextLeft) literal = literal.replace(/^\s+/, "");
    trimNextLeft = false;
    if (open < 0) {
      if (literal) nodes.push({ kind: "text", text: literal });
      break;
    }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(text.slice(start, start + 2))) {
      literal = literal.replace(/\s+$/, "");
      start += 1;
    }
    if (literal) nodes.push({ kind: "text", text: literal });
    const close = findClose(text, start);
    if (close < 0) throw new TemplateError(`template: ${templateName}:${lineOf(text, open)}: unclosed action`);
    let end = close;
    if (/[ \t\r\n]-$/.test(text.slice(close - 2, close))) {
      end = close - 1;
      trimNextLeft = true;
    }
    const inner = text.slice(start, end).trim();
    pos = close + 2;
    if (inner.startsWith("/*")) {
      if (!inner.endsWith("*/")) throw new TemplateError(`template: ${templateName}:${lineOf(text, open)}: unclosed comment`);
      continue;
    }
    if (inner === "") throw new TemplateError(`template: ${templateName}:${lineOf(text, open)}: missing value for command`);
    const tokens = tokenize(inner, lineOf(text, open));
    const keyword = tokens[0];
    if (keyword?.kind === "ident" && ["if", "range", "with", "define", "template", "block", "else", "end", "break", "continue"].includes(keyword.text)) {
      throw new TemplateError(`template: ${templateName}:${lineOf(text, open)}: {{${keyword.text}}} is not supported in agent path templates`);
    }
    const state = { tokens, i: 0, line: lineOf(text, open) };
    const pipeline = parsePipeline(state);
    if (state.i !== tokens.length) throw new TemplateError(`template: ${templateName}:${state.line}: unexpected ${JSON.stringify(tokens[state.i]!.text)} in command`);
    nodes.push({ kind: "action", pipeline, source: inner });
  }
  return nodes;
}

/** The "}}" closing the action that starts at `from`, skipping quoted strings. */
function findClose(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === "}" && text[i + 1] === "}") {
      return i;
    } else i++;
  }
  return -1;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text[i] === "\n") line++;
  return line;
}

type Token =
  | { readonly kind: "field"; readonly text: string }
  | { readonly kind: "ident"; readonly text: string }
  | { readonly kind: "string"; readonly text: string; readonly value: string }
  | { readonly kind: "number"; readonly text: string; readonly value: number }
  | { readonly kind: "punct"; readonly text: "|" | "(" | ")" };

function tokenize(s: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new TemplateError(`template: ${templateName}:${line}: ${what}`);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "|" || c === "(" || c === ")") {
      tokens.push({ kind: "punct", text: c });
      i++;
    } else if (c === ".") {
      const m = /^(\.[A-Za-z_][A-Za-z0-9_]*)+|^\./.exec(s.slice(i))!;
      tokens.push({ kind: "field", text: m[0] });
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      if (j >= s.length) fail("unterminated quoted string");
      const raw = s.slice(i, j + 1);
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch {
        return fail(`bad string syntax: ${raw}`);
      }
      tokens.push({ kind: "string", text: raw, value });
      i = j + 1;
    } else if (c === "`") {
      const j = s.indexOf("`", i + 1);
      if (j < 0) fail("unterminated raw quoted string");
      tokens.push({ kind: "string", text: s.slice(i, j + 1), value: s.slice(i + 1, j) });
      i = j + 1;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?\d+/.exec(s.slice(i));
      if (!m) return fail(`bad number syntax: ${JSON.stringify(s.slice(i, i + 8))}`);
      tokens.push({ kind: "number", text: m[0], value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))!;
      tokens.push({ kind: "ident", text: m[0] });
      i += m[0].length;
    } else if (c === "$") {
      fail("variables are not supported in agent path templates");
    } else {
      fail(`unexpected ${JSON.stringify(c)} in command`);
    }
  }
  return tokens;
}

interface ParseState {
  readonly tokens: readonly Token[];
  i: number;
  readonly line: number;
}

function parsePipeline(st: ParseState): Pipeline {
  const commands: Command[] = [];
  for (;;) {
    const command: Operand[] = [];
    while (st.i < st.tokens.length) {
      const t = st.tokens[st.i]!;
      if (t.kind === "punct" && (t.text === "|" || t.text === ")")) break;
      command.push(parseOperand(st));
    }
    if (command.length === 0) throw new TemplateError(`template: ${templateName}:${st.line}: missing value for command`);
    if (command.length > 1 && command[0]!.kind !== "function") {
      throw new TemplateError(`template: ${templateName}:${st.line}: can't give argument to non-function ${describeOperand(command[0]!)}`);
    }
    commands.push(command);
    const next = st.tokens[st.i];
    if (next?.kind === "punct" && next.text === "|") {
      st.i++;
      continue;
    }
    return commands;
  }
}

function parseOperand(st: ParseState): Operand {
  const t = st.tokens[st.i++]!;
  switch (t.kind) {
    case "field":
      return t.text === "." ? { kind: "dot" } : { kind: "field", path: t.text.slice(1).split(".") };
    case "string":
      return { kind: "literal", value: t.value };
    case "number":
      return { kind: "literal", value: t.value };
    case "ident":
      if (t.text === "true" || t.text === "false") return { kind: "literal", value: t.text === "true" };
      if (t.text === "nil") throw new TemplateError(`template: ${templateName}:${st.line}: nil is not a command`);
      if (!(t.text in functions)) throw new TemplateError(`template: ${templateName}:${st.line}: function ${JSON.stringify(t.text)} not defined`);
      return { kind: "function", name: t.text };
    case "punct": {
      if (t.text !== "(") throw new TemplateError(`template: ${templateName}:${st.line}: unexpected ${JSON.stringify(t.text)} in command`);
      const pipeline = parsePipeline(st);
      const close = st.tokens[st.i++];
      if (close?.kind !== "punct" || close.text !== ")") throw new TemplateError(`template: ${templateName}:${st.line}: unclosed left paren`);
      return { kind: "pipeline", pipeline };
    }
  }
}

function describeOperand(o: Operand): string {
  if (o.kind === "field") return `.${o.path.join(".")}`;
  if (o.kind === "literal") return JSON.stringify(o.value);
  return o.kind;
}

// -----------------------------------------------------------------------------------------------
// Execution
// -----------------------------------------------------------------------------------------------

function runPipeline(pipeline: Pipeline, dot: TemplateValue, source: string): TemplateValue {
  let value: TemplateValue;
  let first = true;
  for (const command of pipeline) {
    const [head, ...rest] = command;
    const args = rest.map((o) => evalOperand(o, dot, source));
    if (!first) args.push(value);
    if (head!.kind === "function") {
      value = callFunction(head!.name, args, source);
    } else {
      if (!first) throw execError(source, `can't give argument to non-function ${describeOperand(head!)}`);
      value = evalOperand(head!, dot, source);
    }
    first = false;
  }
  return value;
}

function evalOperand(o: Operand, dot: TemplateValue, source: string): TemplateValue {
  switch (o.kind) {
    case "dot":
      return dot;
    case "literal":
      return o.value;
    case "pipeline":
      return runPipeline(o.pipeline, dot, source);
    case "function":
      return callFunction(o.name, [], source);
    case "field": {
      let v = dot;
      for (const name of o.path) v = fieldOf(v, name, source);
      return v;
    }
  }
}

function fieldOf(v: TemplateValue, name: string, source: string): TemplateValue {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const s = v as TemplateStruct | TemplateMap;
    if (s.kind === "map") {
      const entry = s.entries.get(name);
      if (entry === undefined) throw execError(source, `map has no entry for key ${JSON.stringify(name)}`);
      return entry;
    }
    if (Object.prototype.hasOwnProperty.call(s.fields, name)) return s.fields[name];
    throw execError(source, `can't evaluate field ${name} in type ${s.type}`);
  }
  throw execError(source, `can't evaluate field ${name} in type ${goTypeOf(v)}`);
}

function execError(source: string, message: string): TemplateError {
  return new TemplateError(`template: ${templateName}: executing ${JSON.stringify(templateName)} at <${source}>: ${message}`);
}

function goTypeOf(v: TemplateValue): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "int";
  if (typeof v === "bigint") return "*big.Int";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]string";
  return "interface {}";
}

/** fmt's %v of a value. */
function print(v: TemplateValue): string {
  if (v === undefined) return "<no value>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.join(" ")}]`;
  const s = v as TemplateStruct | TemplateMap;
  if (s.kind === "map") return `map[${[...s.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => `${k}:${x}`).join(" ")}]`;
  return `{${Object.values(s.fields).map(print).join(" ")}}`;
}

// -----------------------------------------------------------------------------------------------
// Functions: text/template's printf/print/index/len and the sprig string functions SPIRE allows
// -----------------------------------------------------------------------------------------------

type Fn = (args: TemplateValue[], source: string) => TemplateValue;

const str = (v: TemplateValue): string => print(v);

function arity(name: string, n: number, args: TemplateValue[], source: string): void {
  if (args.length !== n) throw execError(source, `error calling ${name}: wrong number of args for ${name}: want ${n} got ${args.length}`);
}

const functions: Readonly<Record<string, Fn>> = {
  print: (a) => a.map(str).join(""),
  printf: (a, src) => {
    const [format, ...rest] = a;
    if (typeof format !== "string") throw execError(src, "printf: format must be a string");
    let k = 0;
    return format.replace(/%[svdx%]/g, (verb) => {
      if (verb === "%%") return "%";
      const v = rest[k++];
      if (verb === "%x") return typeof v === "number" || typeof v === "bigint" ? v.toString(16) : Buffer.from(str(v)).toString("hex");
      return str(v);
    });
  },
  index: (a, src) => {
    const [m, ...keys] = a;
    let v: TemplateValue = m;
    for (const key of keys) {
      if (Array.isArray(v) && typeof key === "number") {
        if (key < 0 || key >= v.length) throw execError(src, `error calling index: index out of range: ${key}`);
        v = v[key];
      } else v = fieldOf(v, str(key), src);
    }
    return v;
  },
  len: (a, src) => {
    arity("len", 1, a, src);
    const v = a[0];
    if (typeof v === "string" || Array.isArray(v)) return v.length;
    if (typeof v === "object" && v !== null && (v as TemplateMap).kind === "map") return (v as TemplateMap).entries.size;
    throw execError(src, `error calling len: len of type ${goTypeOf(v)}`);
  },
  lower: (a, src) => (arity("lower", 1, a, src), str(a[0]).toLowerCase()),
  upper: (a, src) => (arity("upper", 1, a, src), str(a[0]).toUpperCase()),
  trim: (a, src) => (arity("trim", 1, a, src), str(a[0]).trim()),
  nospace: (a, src) => (arity("nospace", 1, a, src), str(a[0]).replace(/\s+/g, "")),
  trimAll: (a, src) => {
    arity("trimAll", 2, a, src);
    const cut = new Set(str(a[0]));
    const s = [...str(a[1])];
    let i = 0;
    let j = s.length;
    while (i < j && cut.has(s[i]!)) i++;
    while (j > i && cut.has(s[j - 1]!)) j--;
    return s.slice(i, j).join("");
  },
  trimPrefix: (a, src) => {
    arity("trimPrefix", 2, a, src);
    const [p, s] = [str(a[0]), str(a[1])];
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (a, src) => {
    arity("trimSuffix", 2, a, src);
    const [p, s] = [str(a[0]), str(a[1])];
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  replace: (a, src) => (arity("replace", 3, a, src), str(a[2]).split(str(a[0])).join(str(a[1]))),
  trunc: (a, src) => {
    arity("trunc", 2, a, src);
    const n = Number(a[0]);
    const s = str(a[1]);
    if (n < 0) return -n < s.length ? s.slice(s.length + n) : s;
    return n < s.length ? s.slice(0, n) : s;
  },
  repeat: (a, src) => (arity("repeat", 2, a, src), str(a[1]).repeat(Math.max(0, Math.min(Number(a[0]), 1024)))),
  contains: (a, src) => (arity("contains", 2, a, src), str(a[1]).includes(str(a[0]))),
  hasPrefix: (a, src) => (arity("hasPrefix", 2, a, src), str(a[1]).startsWith(str(a[0]))),
  hasSuffix: (a, src) => (arity("hasSuffix", 2, a, src), str(a[1]).endsWith(str(a[0]))),
  default: (a, src) => {
    if (a.length < 1 || a.length > 2) throw execError(src, "error calling default: wrong number of args");
    const given = a[1];
    const empty = given === undefined || given === "" || given === 0 || given === false || (Array.isArray(given) && given.length === 0);
    return empty ? a[0] : given;
  },
  sha1sum: (a, src) => (arity("sha1sum", 1, a, src), hash("sha1", str(a[0]))),
  sha256sum: (a, src) => (arity("sha256sum", 1, a, src), hash("sha256", str(a[0]))),
  b64enc: (a, src) => (arity("b64enc", 1, a, src), Buffer.from(str(a[0])).toString("base64")),
  base: (a, src) => (arity("base", 1, a, src), goPathBase(str(a[0]))),
  quote: (a) => a.map((v) => JSON.stringify(str(v))).join(" "),
  squote: (a) => a.map((v) => `'${str(v)}'`).join(" "),
};

function callFunction(name: string, args: TemplateValue[], source: string): TemplateValue {
  const fn = functions[name];
  if (!fn) throw execError(source, `function ${JSON.stringify(name)} not defined`);
  return fn(args, source);
}

function hash(algorithm: string, s: string): string {
  return createHash(algorithm).update(s).digest("hex");
}

function goPathBase(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
