import { describe, expect, it } from "vitest";
import { parseGoInt } from "./strconv.js";

// Go 1.26 strconv.ParseInt(s, 0, 64) on the same inputs; values Go accepts
// but JavaScript cannot hold exactly (beyond 2^53) are refused here.
const GO_PARSE_INT_CASES: readonly (readonly [input: string, value: number | undefined])[] = [
  ["8081", 8081],
  ["-5", -5],
  ["+5", 5],
  ["0x10", 16],
  ["0X1f", 31],
  ["0o17", 15],
  ["017", 15],
  ["08", undefined],
  ["0b101", 5],
  ["1_000", 1000],
  ["_1", undefined],
  ["1_", undefined],
  ["1__0", undefined],
  ["0x_1", 1],
  ["0_7", 7],
  ["", undefined],
  ["0", 0],
  ["00", 0],
  ["-0", 0],
  ["abc", undefined],
  ["1.5", undefined],
  [" 1", undefined],
  ["9007199254740991", 9007199254740991],
  ["9223372036854775807", undefined],
  ["9223372036854775808", undefined],
  ["0x", undefined],
  ["-0x10", -16],
  ["1e3", undefined],
];

describe("parseGoInt", () => {
  it.each(GO_PARSE_INT_CASES)("%j", (input, value) => {
    expect(parseGoInt(input)).toBe(value);
  });
});
