import { describe, expect, it } from "vitest";
import { GoDurationError, goQuote, parseGoDuration, parseGoDurationNanos } from "./duration.js";

// Expected values and messages were produced by Go 1.26 time.ParseDuration on the same inputs.
const GO_CASES: readonly (readonly [input: string, nanos: bigint | string])[] = [
  ["0", 0n],
  ["+0", 0n],
  ["-0", 0n],
  ["", "time: invalid duration \"\""],
  ["+", "time: invalid duration \"+\""],
  ["-", "time: invalid duration \"-\""],
  ["1h30m", 5400000000000n],
  ["300ms", 300000000n],
  ["1.5h", 5400000000000n],
  ["-1s", -1000000000n],
  ["1x", "time: unknown unit \"x\" in duration \"1x\""],
  ["10", "time: missing unit in duration \"10\""],
  ["1h 30m", "time: unknown unit \"h \" in duration \"1h 30m\""],
  [".5s", 500000000n],
  ["5.s", 5000000000n],
  [".s", "time: invalid duration \".s\""],
  ["-.s", "time: invalid duration \"-.s\""],
  ["1.h", 3600000000000n],
  ["0.0", "time: missing unit in duration \"0.0\""],
  ["00", "time: missing unit in duration \"00\""],
  ["1e3s", "time: unknown unit \"e\" in duration \"1e3s\""],
  ["2h45m0.5s", 9900500000000n],
  ["1µs", 1000n],
  ["1μs", 1000n],
  ["1us", 1000n],
  ["1ns", 1n],
  ["1.0000000001s", 1000000000n],
  ["0.000000001s", 1n],
  ["0.0000000001s", 0n],
  ["9223372036854775807ns", 9223372036854775807n],
  ["9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""],
  ["-9223372036854775808ns", -9223372036854775808n],
  ["-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\""],
  ["2562047h47m16.854775807s", 9223372036854775807n],
  ["2562048h", "time: invalid duration \"2562048h\""],
  ["1é", "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\""],
  ["1\"s", "time: unknown unit \"\\\"s\" in duration \"1\\\"s\""],
  ["1H", "time: unknown unit \"H\" in duration \"1H\""],
  ["3m1.5s", 181500000000n],
  ["1.00000000000000000000000000001s", 1000000000n],
  ["100000000000000000000ns", "time: invalid duration \"100000000000000000000ns\""],
  ["s", "time: invalid duration \"s\""],
  ["1s1", "time: missing unit in duration \"1s1\""],
  ["1s.", "time: invalid duration \"1s.\""],
  ["-1.5h", -5400000000000n],
  ["+5m", 300000000000n],
  ["1h-1m", "time: unknown unit \"h-\" in duration \"1h-1m\""],
  ["15m0s", 900000000000n],
];

describe("parseGoDurationNanos", () => {
  it.each(GO_CASES)("%j as Go parses it", (input, expected) => {
    if (typeof expected === "bigint") expect(parseGoDurationNanos(input)).toBe(expected);
    else {
      let message: string | undefined;
      try {
        parseGoDurationNanos(input);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toBe(expected);
    }
  });

  it("throws GoDurationError carrying the reason and the value", () => {
    try {
      parseGoDurationNanos("1x");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GoDurationError);
      const e = error as GoDurationError;
      expect(e.message).toBe('time: unknown unit "x" in duration "1x"');
      expect(e.reason).toBe('unknown unit "x" in duration');
      expect(e.value).toBe("1x");
      expect(e.configDetail).toBe('invalid duration "1x": unknown unit "x"');
    }
  });

  it("phrases each kind of failure for configuration messages", () => {
    const detail = (s: string) => {
      try {
        parseGoDurationNanos(s);
      } catch (e) {
        return (e as GoDurationError).configDetail;
      }
      return undefined;
    };
    expect(detail("10")).toBe('invalid duration "10": missing unit');
    expect(detail("abc")).toBe('invalid duration "abc"');
    expect(detail("1é")).toBe('invalid duration "1\\xc3\\xa9": unknown unit "\\xc3\\xa9"');
  });
});

describe("parseGoDuration", () => {
  it("returns milliseconds", () => {
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("300ms")).toBe(300);
    expect(parseGoDuration("1.5h")).toBe(5_400_000);
    expect(parseGoDuration("-1s")).toBe(-1000);
    expect(parseGoDuration("1500us")).toBe(1.5);
    expect(parseGoDuration("0")).toBe(0);
  });
});

describe("goQuote", () => {
  it("escapes quotes, backslashes and non-ASCII bytes as Go's time package does", () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote("µ")).toBe('"\\xc2\\xb5"');
    expect(goQuote("\t")).toBe('"\\x09"');
  });
});
