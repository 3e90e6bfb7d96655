import { describe, expect, it } from "vitest";
import { parseExpiresBefore } from "./expires-before.js";

const unix = (iso: string) => BigInt(Date.parse(iso) / 1000);

describe("by_expires_before with Go's layout 2006-01-02 15:04:05 -0700 -07", () => {
  it("reads times as Go does, the short offset winning", () => {
    expect(parseExpiresBefore("2026-06-01 12:00:00 +0000 +00")).toBe(unix("2026-06-01T12:00:00Z"));
    expect(parseExpiresBefore("2026-06-01 12:00:00 +0200 +02")).toBe(unix("2026-06-01T10:00:00Z"));
    expect(parseExpiresBefore("2026-06-01 12:00:00 -0530 -05")).toBe(unix("2026-06-01T17:00:00Z"));
    expect(parseExpiresBefore("2026-06-01 12:00:00.75 +0000 +00")).toBe(unix("2026-06-01T12:00:00Z"));
    expect(parseExpiresBefore("2024-02-29 00:00:00 +0000 +00")).toBe(unix("2024-02-29T00:00:00Z"));
    expect(parseExpiresBefore("0099-01-01 00:00:00 +0000 +00")).toBe(-59042995200n);
  });

  it("gives no filter for text Go cannot parse, and for Go's zero time", () => {
    for (const text of [
      "",
      "2026-06-01",
      "2026-06-01T12:00:00Z",
      "2026-06-01 12:00:00 +0000",
      "2026-13-01 12:00:00 +0000 +00",
      "2023-02-29 12:00:00 +0000 +00",
      "2026-06-01 24:00:00 +0000 +00",
      "2026-06-01 12:60:00 +0000 +00",
      "2026-06-01 12:00:00 +2500 +25",
      " 2026-06-01 12:00:00 +0000 +00",
      "0001-01-01 00:00:00 +0000 +00",
    ]) {
      expect(parseExpiresBefore(text), text).toBeUndefined();
    }
  });
});
