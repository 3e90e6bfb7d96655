import { describe, expect, it } from "vitest";
import { bundlesEqual } from "./bundle-equal.js";
import { bundleOf, testAuthority } from "./test-bundles.js";

describe("bundlesEqual", () => {
  const ca = testAuthority("b.test");
  const other = testAuthority("b.test");
  const base = bundleOf(ca, { refreshHint: 300n, sequenceNumber: 2n });

  it("ignores taint, expiry and the order of JWT keys", () => {
    const second = { publicKey: Buffer.from(base.jwtAuthorities[0]!.publicKey), keyId: "jwt-2", expiresAt: 0n, tainted: false };
    const a = { ...base, jwtAuthorities: [...base.jwtAuthorities, second] };
    const b = {
      ...base,
      x509Authorities: [{ asn1: Buffer.from(ca.der), tainted: true }],
      jwtAuthorities: [{ ...second, expiresAt: 99n }, { ...base.jwtAuthorities[0]!, tainted: true }],
    };
    expect(bundlesEqual(a, b)).toBe(true);
  });

  it.each([
    ["trust domain", { trustDomain: "c.test" }],
    ["refresh hint", { refreshHint: 60n }],
    ["sequence number", { sequenceNumber: 3n }],
    ["X.509 authorities", { x509Authorities: [{ asn1: other.der, tainted: false }] }],
    ["an added X.509 authority", { x509Authorities: [{ asn1: ca.der, tainted: false }, { asn1: other.der, tainted: false }] }],
    ["a JWT key's bytes", { jwtAuthorities: [{ ...bundleOf(other).jwtAuthorities[0]! }] }],
    ["a JWT key's ID", { jwtAuthorities: [{ ...base.jwtAuthorities[0]!, keyId: "jwt-9" }] }],
    ["WIT keys", { witAuthorities: [{ ...base.jwtAuthorities[0]! }] }],
  ])("tells bundles apart by %s", (_what, change) => {
    expect(bundlesEqual(base, { ...base, ...change })).toBe(false);
    expect(bundlesEqual({ ...base, ...change }, base)).toBe(false);
  });
});
