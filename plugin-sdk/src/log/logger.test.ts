import { describe, expect, it } from "vitest";
import { createLogger, hclogTimestamp } from "./logger.js";

describe("plugin logger", () => {
  it("writes hclog-shaped JSON with a six-digit fraction, as Go hosts parse it", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), now: () => new Date("2026-11-23T09:40:00.123Z") }).with({ plugin: "x" });
    log.info("Loaded", { keys: 3, big: 2n ** 64n });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      "@level": "info",
      "@message": "Loaded",
      "@timestamp": "2026-11-23T09:40:00.123000Z",
      plugin: "x",
      keys: 3,
      big: "18446744073709551616",
    });
  });

  it("matches Go's 2006-01-02T15:04:05.000000Z07:00 layout", () => {
    expect(hclogTimestamp(new Date(0))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("drops lines below its level", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
    log.info("no");
    log.error("yes");
    expect(lines.map((l) => JSON.parse(l)["@message"])).toEqual(["yes"]);
  });
});
