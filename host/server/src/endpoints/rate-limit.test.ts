import { Code, RpcError } from "@signet/proto";
import { describe, expect, it } from "vitest";
import { methodLimits, PerIpLimiter, TokenBucket } from "./rate-limit.js";

describe("TokenBucket", () => {
  it("starts full, reserves ahead and tells how long to wait (golang.org/x/time/rate semantics)", () => {
    const b = new TokenBucket(10, 0);
    expect(b.reserve(10, 0)).toBe(0);
    expect(b.reserve(1, 0)).toBe(100); // one token accrues every 100 ms
    expect(b.reserve(5, 0)).toBe(600); // reservations queue up
    // After 1 s, 10 tokens accrued against a debt of 6: 4 left.
    expect(b.reserve(4, 1000)).toBe(0);
    expect(b.reserve(1, 1000)).toBe(100);
  });

  it("refills over time but never above the burst", () => {
    const b = new TokenBucket(1, 0);
    expect(b.reserve(1, 0)).toBe(0);
    expect(b.reserve(1, 500)).toBe(500);
    expect(b.reserve(1, 10_000)).toBe(0);
    expect(b.reserve(1, 10_000)).toBe(1000);
  });

  it("refuses a request larger than the burst with ResourceExhausted", () => {
    const b = new TokenBucket(500, 0);
    let err: unknown;
    try {
      b.reserve(501, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect((err as RpcError).message).toBe("rate (501) exceeds burst size (500)");
  });
});

describe("PerIpLimiter", () => {
  it("keeps one bucket per IP and forgets idle full ones", () => {
    const l = new PerIpLimiter(1, 1000);
    expect(l.reserve("10.0.0.1", 1, 0)).toBe(0);
    expect(l.reserve("10.0.0.2", 1, 0)).toBe(0);
    expect(l.reserve("10.0.0.1", 1, 0)).toBe(1000);
    expect(l.size).toBe(2);
    l.reserve("10.0.0.3", 1, 60_000);
    expect(l.size).toBe(1);
  });
});

describe("methodLimits", () => {
  it("follows ratelimit.attestation and ratelimit.signing; PublishJWTAuthority and PostStatus are always limited", () => {
    const off = methodLimits({ attestation: false, signing: false });
    expect([...off.keys()].sort()).toEqual([
      "/spire.api.server.agent.v1.Agent/PostStatus",
      "/spire.api.server.bundle.v1.Bundle/PublishJWTAuthority",
      "/spire.api.server.bundle.v1.Bundle/PublishWITAuthority",
    ]);
    const on = methodLimits({ attestation: true, signing: true });
    expect(on.get("/spire.api.server.agent.v1.Agent/AttestAgent")?.limiter.rate).toBe(1);
    expect(on.get("/spire.api.server.svid.v1.SVID/BatchNewX509SVID")?.limiter.rate).toBe(500);
    expect(on.get("/spire.api.server.agent.v1.Agent/PostStatus")?.limiter.rate).toBe(10);
    // CSR signing shares one limiter per IP across methods, as SPIRE does.
    expect(on.get("/spire.api.server.agent.v1.Agent/RenewAgent")?.limiter).toBe(on.get("/spire.api.server.svid.v1.SVID/BatchNewX509SVID")?.limiter);
    expect(on.get("/spire.api.server.svid.v1.SVID/BatchNewX509SVID")?.cost({ params: [1, 2, 3] })).toBe(3);
    expect(on.get("/spire.api.server.svid.v1.SVID/BatchNewX509SVID")?.cost({ params: [] })).toBe(0);
  });
});
