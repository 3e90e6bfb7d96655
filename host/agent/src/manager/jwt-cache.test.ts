import { describe, expect, it } from "vitest";
import { JwtSvidCache } from "./jwt-cache.js";

const token = (name: string, issuedAt: number, expiresAt: number) => ({ token: name, issuedAt, expiresAt });

describe("JwtSvidCache", () => {
  it("keys by SPIFFE ID and the audience set, whatever the audience order", () => {
    expect(JwtSvidCache.keyOf("spiffe://td/a", ["y", "x"])).toBe(JwtSvidCache.keyOf("spiffe://td/a", ["x", "y"]));
    expect(JwtSvidCache.keyOf("spiffe://td/a", ["x"])).not.toBe(JwtSvidCache.keyOf("spiffe://td/b", ["x"]));
    expect(JwtSvidCache.keyOf("spiffe://td/a", ["x", "y"])).not.toBe(JwtSvidCache.keyOf("spiffe://td/a", ["x"]));
  });

  it("reuses a token until half its lifetime has passed", () => {
    const cache = new JwtSvidCache(10);
    const key = JwtSvidCache.keyOf("spiffe://td/a", ["aud"]);
    const t = token("t1", 1000, 1300); // half-life at 1150 s
    cache.put(key, t);
    expect(cache.fresh(key, 1000_000)).toBe(t);
    expect(cache.fresh(key, 1149_999)).toBe(t);
    expect(cache.fresh(key, 1150_000)).toBeUndefined();
    expect(cache.fresh(JwtSvidCache.keyOf("spiffe://td/a", ["other"]), 1000_000)).toBeUndefined();
  });

  it("falls back to a token that is past half-life but not expired", () => {
    const cache = new JwtSvidCache(10);
    const key = JwtSvidCache.keyOf("spiffe://td/a", ["aud"]);
    const t = token("t1", 1000, 1300);
    cache.put(key, t);
    expect(cache.valid(key, 1200_000)).toBe(t);
    expect(cache.valid(key, 1299_999)).toBe(t);
    expect(cache.valid(key, 1300_000)).toBeUndefined();
  });

  it("keeps at most maxSize tokens, dropping the least recently used", () => {
    const cache = new JwtSvidCache(2);
    const [a, b, c] = ["a", "b", "c"].map((n) => JwtSvidCache.keyOf(`spiffe://td/${n}`, ["aud"]));
    cache.put(a!, token("a", 0, 1000));
    cache.put(b!, token("b", 0, 1000));
    // Reading a makes b the least recently used.
    expect(cache.fresh(a!, 1_000)?.token).toBe("a");
    cache.put(c!, token("c", 0, 1000));
    expect(cache.size).toBe(2);
    expect(cache.valid(b!, 1_000)).toBeUndefined();
    expect(cache.valid(a!, 1_000)?.token).toBe("a");
    expect(cache.valid(c!, 1_000)?.token).toBe("c");
    // Replacing a token keeps one entry for its key.
    cache.put(c!, token("c2", 0, 1000));
    expect(cache.size).toBe(2);
    expect(cache.fresh(c!, 1_000)?.token).toBe("c2");
  });

  it("keeps nothing with a size of 0", () => {
    const cache = new JwtSvidCache(0);
    const key = JwtSvidCache.keyOf("spiffe://td/a", ["aud"]);
    cache.put(key, token("t", 0, 1000));
    expect(cache.size).toBe(0);
    expect(cache.valid(key, 0)).toBeUndefined();
  });
});
