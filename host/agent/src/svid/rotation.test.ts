import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { rotationTime, validityOf } from "./rotation.js";

const hour = 3600_000;

describe("rotationTime", () => {
  const v = { notBefore: 0, notAfter: 10 * hour }; // half-life 5 h

  it("rotates at half of the lifetime, jittered by ±10% of the half-life", () => {
    expect(rotationTime(v, 0.5)).toBe(5 * hour);
    // jitter 0: remaining lifetime 0.9 × half → rotate later.
    expect(rotationTime(v, 0)).toBe(10 * hour - 4.5 * hour);
    // jitter → 1: remaining 1.1 × half → rotate earlier.
    expect(rotationTime(v, 0.999999)).toBeCloseTo(10 * hour - 5.5 * hour, -1);
    for (let i = 0; i < 100; i++) {
      const t = rotationTime(v, Math.random());
      expect(t).toBeGreaterThan(4.5 * hour - 1);
      expect(t).toBeLessThanOrEqual(5.5 * hour);
    }
  });

  it("renews when availability_target remains, if that leaves more than 12 h between renewals", () => {
    const long = { notBefore: 0, notAfter: 72 * hour };
    expect(rotationTime(long, 0.5, 24 * hour)).toBe(48 * hour);
    expect(rotationTime(long, 0, 24 * hour)).toBe(48 * hour);
    // 72 h − 60 h = 12 h: not more than the minimum gap → half-life rule.
    expect(rotationTime(long, 0.5, 60 * hour)).toBe(36 * hour);
    // Short-lived SVIDs fall back to the half-life rule.
    expect(rotationTime(v, 0.5, 24 * hour)).toBe(5 * hour);
  });
});

describe("validityOf", () => {
  it("reads notBefore and notAfter of a DER certificate in ms", () => {
    const now = new Date(Date.UTC(2026, 0, 1, 12));
    const ca = new TestAuthority("example.org", now);
    const { chain } = ca.svid("spiffe://example.org/w", now, 3600);
    // SPIRE's 10 s not-before cushion.
    expect(validityOf(chain[0]!)).toEqual({ notBefore: now.getTime() - 10_000, notAfter: now.getTime() + hour });
  });

  it("agrees with node:crypto on UTCTime and GeneralizedTime (from 2050) validities", () => {
    for (const now of [new Date(Date.UTC(2049, 11, 31, 23, 0)), new Date(Date.UTC(2051, 5, 1))]) {
      const { chain } = new TestAuthority("example.org", now).svid("spiffe://example.org/w", now, 7200);
      const cert = new X509Certificate(chain[0]!);
      expect(validityOf(chain[0]!)).toEqual({ notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) });
    }
  });

  it("throws on a certificate cut short or not a certificate", () => {
    const now = new Date(Date.UTC(2026, 0, 1, 12));
    const { chain } = new TestAuthority("example.org", now).svid("spiffe://example.org/w", now, 3600);
    expect(() => validityOf(chain[0]!.subarray(0, 120))).toThrow(/truncated/);
    expect(() => validityOf(Buffer.from("0403010203", "hex"))).toThrow(/unexpected tag/);
  });
});
