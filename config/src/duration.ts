/**
 * Go's `time.ParseDuration`, with its grammar, overflow rules and error
 * messages: a possibly signed sequence of decimal numbers, each with an
 * optional fraction and a unit ("300ms", "-1.5h", "2h45m"); units are "ns",
 * "us" (or "µs", "μs"), "ms", "s", "m", "h"; a bare "0" is zero.
 */

/** The problem Go reports, e.g. `time: unknown unit "x" in duration "1x"`. */
export class GoDurationError extends Error {
  override readonly name = "GoDurationError";
  /** Go's reason without the value: `invalid duration`, `missing unit in duration`, `unknown unit "x" in duration`. */
  readonly reason: string;
  /** The string that failed to parse. */
  readonly value: string;

  constructor(reason: string, value: string) {
    super(`time: ${reason} ${goQuote(value)}`);
    this.reason = reason;
    this.value = value;
  }

  /** The reason phrased for configuration messages: `invalid duration "1x": unknown unit "x"`. */
  get configDetail(): string {
    const head = `invalid duration ${goQuote(this.value)}`;
    if (this.reason === "invalid duration") return head;
    if (this.reason === "missing unit in duration") return `${head}: missing unit`;
    return `${head}: ${this.reason.replace(/ in duration$/, "")}`;
  }
}

/** Parses a Go duration string to milliseconds (fractional below 1 ms). */
export function parseGoDuration(text: string): number {
  return Number(parseGoDurationNanos(text)) / 1e6;
}

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["µs", 1_000n], // U+00B5 micro sign
  ["μs", 1_000n], // U+03BC Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const MAX = 1n << 63n; // Go works in uint64 and allows exactly 1<<63 for negative values

/** Parses a Go duration string to nanoseconds, exactly as Go does. */
export function parseGoDurationNanos(text: string): bigint {
  const invalid = () => new GoDurationError("invalid duration", text);
  let s = text;
  let d = 0n;
  let neg = false;

  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();

  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]!))) throw invalid();

    // [0-9]*
    const before = s.length;
    const int = leadingInt(s);
    if (int === undefined) throw invalid();
    let v = int.value;
    s = int.rest;
    const pre = before !== s.length;

    // (\.[0-9]*)?
    let post = false;
    let f = 0n;
    let scale = 1;
    if (s !== "" && s[0] === ".") {
      s = s.slice(1);
      const afterDot = s.length;
      const frac = leadingFraction(s);
      f = frac.value;
      scale = frac.scale;
      s = frac.rest;
      post = afterDot !== s.length;
    }
    if (!pre && !post) throw invalid(); // no digits, e.g. ".s" or "-.s"

    // unit: everything up to the next number
    let i = 0;
    while (i < s.length && !(s[i] === "." || isDigit(s[i]!))) i++;
    if (i === 0) throw new GoDurationError("missing unit in duration", text);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS.get(u);
    if (unit === undefined) throw new GoDurationError(`unknown unit ${goQuote(u)} in duration`, text);

    if (v > MAX / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // Go computes the fraction in float64 ("nanosecond accurate for fractions of hours").
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > MAX) throw invalid();
    }
    d += v;
    if (d > MAX) throw invalid();
  }
  if (neg) return -d;
  if (d > MAX - 1n) throw invalid();
  return d;
}

function leadingInt(s: string): { value: bigint; rest: string } | undefined {
  let x = 0n;
  let i = 0;
  for (; i < s.length && isDigit(s[i]!); i++) {
    if (x > MAX / 10n) return undefined;
    x = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (x > MAX) return undefined;
  }
  return { value: x, rest: s.slice(i) };
}

/** Consumes [0-9]*; on overflow it stops gaining precision instead of failing. */
function leadingFraction(s: string): { value: bigint; scale: number; rest: string } {
  let x = 0n;
  let scale = 1;
  let overflow = false;
  let i = 0;
  for (; i < s.length && isDigit(s[i]!); i++) {
    if (overflow) continue;
    if (x > (MAX - 1n) / 10n) {
      overflow = true;
      continue;
    }
    const y = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (y > MAX) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  return { value: x, scale, rest: s.slice(i) };
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/**
 * Go's `time.quote`: double quotes, `"` and `\` escaped, and every byte of a
 * non-ASCII or control character written as `\xNN`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (code >= 0x80 || code < 0x20) {
      for (const byte of new TextEncoder().encode(c)) out += `\\x${byte.toString(16).padStart(2, "0")}`;
    } else {
      if (c === '"' || c === "\\") out += "\\";
      out += c;
    }
  }
  return out + '"';
}
