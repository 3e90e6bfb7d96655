import { Code } from "@signet/proto";
import { describe, expect, it } from "vitest";
import { ipOf, perIpRateLimit } from "./rate-limit.js";

const ctx = (peer: string) => ({ method: "/x", metadata: undefined as never, peer, signal: new AbortController().signal });

describe("per-IP rate limit", () => {
  it("refuses more than the burst at once and makes callers wait for tokens", async () => {
    let now = 0;
    const waits: number[] = [];
    const limit = perIpRateLimit({
      perSecond: 10,
      address: (c) => c.peer,
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    await expect(limit(ctx("ipv4:1.2.3.4:1"), 11)).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: "rate (11) exceeds burst size (10)" });
    await limit(ctx("ipv4:1.2.3.4:1"), 10);
    expect(waits).toEqual([]);
    await limit(ctx("ipv4:1.2.3.4:2"), 5);
    expect(waits).toEqual([500]);
    await limit(ctx("ipv4:5.6.7.8:1"), 10);
    expect(waits).toEqual([500]);
  });

  it("keys buckets by IP", () => {
    expect(ipOf("ipv4:10.0.0.1:5000")).toBe("10.0.0.1");
    expect(ipOf("ipv6:[::1]:5000")).toBe("::1");
    expect(ipOf("unix:/tmp/s")).toBe("unix");
  });
});
