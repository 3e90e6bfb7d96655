import { describe, expect, it } from "vitest";
import { ConnectionSelectors } from "./connection-selectors.js";

const sel = (value: string) => [{ type: "unix", value }];

describe("ConnectionSelectors", () => {
  it("reuses a connection's selectors while young, then attests again", async () => {
    let now = 0;
    const cache = new ConnectionSelectors<object>(1_000, () => now);
    const peer = {};
    let calls = 0;
    const attest = async () => sel(`uid:${++calls}`);
    expect(await cache.selectorsOf(peer, attest)).toEqual(sel("uid:1"));
    now = 1_000;
    expect(await cache.selectorsOf(peer, attest)).toEqual(sel("uid:1"));
    now = 1_001;
    expect(await cache.selectorsOf(peer, attest)).toEqual(sel("uid:2"));
    expect(calls).toBe(2);
  });

  it("keeps connections apart and does not keep a failure", async () => {
    const cache = new ConnectionSelectors<object>(1_000, () => 0);
    const a = {};
    const b = {};
    await cache.selectorsOf(a, async () => sel("uid:1"));
    expect(await cache.selectorsOf(b, async () => sel("uid:2"))).toEqual(sel("uid:2"));
    const c = {};
    await expect(cache.selectorsOf(c, async () => Promise.reject(new Error("plugin down")))).rejects.toThrow("plugin down");
    await new Promise((r) => setImmediate(r));
    expect(await cache.selectorsOf(c, async () => sel("uid:3"))).toEqual(sel("uid:3"));
  });
});
