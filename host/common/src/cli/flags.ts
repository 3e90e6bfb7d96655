/**
 * Command-line flags parsed as Go's `flag` package parses them, because
 * operators' scripts were written against spire-server: `-flag value`,
 * `-flag=value`, `--flag` alike; booleans take no separate value
 * (`-admin`, `-admin=false`); parsing stops at the first non-flag argument
 * or after `--`. Errors and usage text use Go's wording.
 */
import { parseGoDurationNanos, parseGoInt } from "@signet/config";

/** What a flag holds; `isBool` flags never consume the next argument. */
interface FlagValue {
  /** Go's type word shown in usage ("string", "int", "duration", "value"; "" for booleans). */
  readonly typeName: string;
  readonly isBool: boolean;
  /** The default as Go prints it in usage. */
  readonly defValue: string;
  /** Throws a FlagValueError (or any Error) with Go's reason. */
  set(text: string): void;
}

/** The reason part of a rejected value, e.g. "parse error" or "value out of range". */
export class FlagValueError extends Error {}

/** Parse failure or `-h`; the message is the line Go prints before the usage. */
export class FlagParseError extends Error {
  constructor(
    message: string,
    readonly helpRequested = false,
  ) {
    super(message);
  }
}

interface Flag {
  readonly name: string;
  readonly usage: string;
  readonly value: FlagValue;
}

export interface Box<T> {
  value: T;
  /** True once the flag appeared on the command line. */
  set: boolean;
}

export class FlagSet {
  private readonly flags = new Map<string, Flag>();
  private rest: string[] = [];

  constructor(readonly name: string) {}

  string(name: string, def: string, usage: string): Box<string> {
    const box: Box<string> = { value: def, set: false };
    this.define(name, usage, box, { typeName: "string", isBool: false, defValue: def, set: (t) => void (box.value = t) });
    return box;
  }

  int(name: string, def: number, usage: string, bits: 32 | 64 = 64): Box<number> {
    const box: Box<number> = { value: def, set: false };
    this.define(name, usage, box, {
      typeName: "int",
      isBool: false,
      defValue: String(def),
      set: (t) => void (box.value = parseIntFlag(t, bits)),
    });
    return box;
  }

  bool(name: string, def: boolean, usage: string): Box<boolean> {
    const box: Box<boolean> = { value: def, set: false };
    this.define(name, usage, box, { typeName: "", isBool: true, defValue: String(def), set: (t) => void (box.value = parseBool(t)) });
    return box;
  }

  /** Go's BoolFunc: a boolean-style flag whose callback sees the raw text. */
  boolFunc(name: string, usage: string, fn: (text: string) => void): Box<boolean> {
    const box: Box<boolean> = { value: false, set: false };
    this.define(name, usage, box, {
      typeName: "",
      isBool: true,
      defValue: "",
      set: (t) => {
        fn(t);
        box.value = true;
      },
    });
    return box;
  }

  /** A time.Duration flag; the value is in nanoseconds. */
  duration(name: string, defNanos: bigint, usage: string): Box<bigint> {
    const box: Box<bigint> = { value: defNanos, set: false };
    this.define(name, usage, box, {
      typeName: "duration",
      isBool: false,
      defValue: formatGoDuration(defNanos),
      set: (t) => {
        try {
          box.value = parseGoDurationNanos(t);
        } catch {
          throw new FlagValueError("parse error");
        }
      },
    });
    return box;
  }

  /** SPIRE's DurationFlag (a flag.Var): parsed as a time.Duration like `duration`, shown in usage as `value`. */
  durationVar(name: string, defNanos: bigint, usage: string): Box<bigint> {
    const box: Box<bigint> = { value: defNanos, set: false };
    this.define(name, usage, box, {
      typeName: "value",
      isBool: false,
      defValue: formatGoDuration(defNanos),
      set: (t) => {
        try {
          box.value = parseGoDurationNanos(t);
        } catch (e) {
          throw new FlagValueError(e instanceof Error ? e.message : String(e));
        }
      },
    });
    return box;
  }

  /** A repeatable flag collecting every occurrence (SPIRE's StringsFlag). */
  strings(name: string, usage: string): Box<string[]> {
    const box: Box<string[]> = { value: [], set: false };
    this.define(name, usage, box, { typeName: "value", isBool: false, defValue: "[]", set: (t) => void box.value.push(t) });
    return box;
  }

  /** SPIRE's tri-state BoolFlag: "true", "false", anything else = no filter. */
  triState(name: string, usage: string): Box<boolean | undefined> {
    const box: Box<boolean | undefined> = { value: undefined, set: false };
    this.define(name, usage, box, {
      typeName: "value",
      isBool: false,
      defValue: "",
      set: (t) => void (box.value = t === "true" ? true : t === "false" ? false : undefined),
    });
    return box;
  }

  /** Any other flag: `set` validates and stores, throwing an Error whose message Go would print. */
  custom(name: string, usage: string, defValue: string, set: (text: string) => void): Box<boolean> {
    const box: Box<boolean> = { value: false, set: false };
    this.define(name, usage, box, { typeName: "value", isBool: false, defValue, set });
    return box;
  }

  /** Arguments left after the flags. */
  args(): readonly string[] {
    return this.rest;
  }

  has(name: string): boolean {
    return this.flags.has(name);
  }

  /** Go's flag.Parse with ContinueOnError. */
  parse(args: readonly string[]): void {
    let i = 0;
    while (i < args.length) {
      const arg = args[i]!;
      if (arg.length < 2 || arg[0] !== "-") break;
      let numMinuses = 1;
      if (arg[1] === "-") {
        numMinuses = 2;
        if (arg.length === 2) {
          i++;
          break;
        }
      }
      i++;
      let name = arg.slice(numMinuses);
      if (name.length === 0 || name[0] === "-" || name[0] === "=") {
        throw new FlagParseError(`bad flag syntax: ${arg}`);
      }
      let value: string | undefined;
      const eq = name.indexOf("=");
      if (eq > 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      const flag = this.flags.get(name);
      if (!flag) {
        if (name === "help" || name === "h") throw new FlagParseError("flag: help requested", true);
        throw new FlagParseError(`flag provided but not defined: -${name}`);
      }
      if (flag.value.isBool) {
        const text = value ?? "true";
        try {
          flag.value.set(text);
        } catch (e) {
          throw new FlagParseError(`invalid boolean value ${goQuote(text)} for -${name}: ${reasonOf(e)}`);
        }
      } else {
        if (value === undefined) {
          if (i >= args.length) throw new FlagParseError(`flag needs an argument: -${name}`);
          value = args[i]!;
          i++;
        }
        try {
          flag.value.set(value);
        } catch (e) {
          throw new FlagParseError(`invalid value ${goQuote(value)} for flag -${name}: ${reasonOf(e)}`);
        }
      }
      this.boxes.get(name)!.set = true;
    }
    this.rest = args.slice(i);
  }

  /** Go's `Usage of <name>:` followed by PrintDefaults. */
  usage(): string {
    let out = `Usage of ${this.name}:\n`;
    for (const flag of [...this.flags.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const { typeWord, text } = unquoteUsage(flag);
      let line = `  -${flag.name}`;
      if (typeWord.length > 0) line += ` ${typeWord}`;
      line += line.length <= 4 ? "\t" : "\n    \t";
      line += text.replaceAll("\n", "\n    \t");
      if (!isZeroDefault(flag)) {
        line += flag.value.typeName === "string" ? ` (default ${goQuote(flag.value.defValue)})` : ` (default ${flag.value.defValue})`;
      }
      out += `${line}\n`;
    }
    return out;
  }

  private readonly boxes = new Map<string, { set: boolean }>();

  private define(name: string, usage: string, box: { set: boolean }, value: FlagValue): void {
    if (this.flags.has(name)) throw new Error(`${this.name} flag redefined: ${name}`);
    this.flags.set(name, { name, usage, value });
    this.boxes.set(name, box);
  }
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** strconv.ParseBool */
export function parseBool(text: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  throw new FlagValueError("parse error");
}

/** strconv.ParseInt(text, 0, bits) with Go's two failure reasons. */
export function parseIntFlag(text: string, bits: 32 | 64): number {
  const n = parseGoInt(text);
  if (n === undefined) {
    // Syntactically fine but too large for a JS-safe integer is still "out of range" for us.
    if (/^[+-]?(0[xob])?[0-9a-f_]+$/i.test(text)) throw new FlagValueError("value out of range");
    throw new FlagValueError("parse error");
  }
  const limit = bits === 32 ? 2 ** 31 : 2 ** 63;
  if (n >= limit || n < -limit) throw new FlagValueError("value out of range");
  return n;
}

/** Go's flag.UnquoteUsage: a `backquoted` word in the usage names the argument. */
function unquoteUsage(flag: Flag): { typeWord: string; text: string } {
  const usage = flag.usage;
  const first = usage.indexOf("`");
  if (first >= 0) {
    const second = usage.indexOf("`", first + 1);
    if (second >= 0) {
      const word = usage.slice(first + 1, second);
      return { typeWord: word, text: usage.slice(0, first) + word + usage.slice(second + 1) };
    }
  }
  return { typeWord: flag.value.typeName, text: usage };
}

function isZeroDefault(flag: Flag): boolean {
  const d = flag.value.defValue;
  switch (flag.value.typeName) {
    case "":
      return d === "false" || d === "";
    case "string":
      return d === "";
    case "int":
      return d === "0";
    case "duration":
      return d === "0s";
    default:
      return d === "" || d === "[]" || d === "0";
  }
}

/** Go's %q for the strings we print (ASCII-safe approximation of strconv.Quote). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** time.Duration.String() */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return "0s";
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  let out: string;
  if (u < 1_000_000_000n) {
    // Sub-second: ns, µs or ms with a fraction.
    const [unit, scale] = u < 1000n ? ["ns", 1n] : u < 1_000_000n ? ["µs", 1000n] : ["ms", 1_000_000n];
    out = fraction(u, scale as bigint) + (unit as string);
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = `${fraction(u, 1_000_000_000n)}s`;
    if (h > 0n) out = `${h}h${m}m${out}`;
    else if (m > 0n) out = `${m}m${out}`;
  }
  return neg ? `-${out}` : out;
}

function fraction(value: bigint, scale: bigint): string {
  const whole = value / scale;
  const rem = value % scale;
  if (rem === 0n) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rem).padStart(digits, "0").replace(/0+$/, "")}`;
}
