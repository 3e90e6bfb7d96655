import { describe, expect, it } from "vitest";
import { calculateRefreshHintMs, minimumRefreshHintMs, nextRefreshMs } from "./refresh-schedule.js";
import { bundleOf, testAuthority } from "./test-bundles.js";

describe("refresh schedule", () => {
  const ca = testAuthority("b.test", { ttlSeconds: 24 * 3600 });
  const shortCa = testAuthority("b.test", { ttlSeconds: 3600 });

  it("takes the bundle's own hint, with a one-minute floor", () => {
    expect(calculateRefreshHintMs(bundleOf(ca, { refreshHint: 300n }))).toBe(300_000);
    expect(calculateRefreshHintMs(bundleOf(ca, { refreshHint: 10n }))).toBe(minimumRefreshHintMs);
  });

  it("derives a hint of a tenth of the shortest X.509 authority lifetime when the bundle has none", () => {
    // SPIRE's CA template backdates notBefore by 10 s: the lifetimes are 24 h + 10 s and 1 h + 10 s.
    expect(calculateRefreshHintMs(bundleOf(ca))).toBe(8641_000);
    const both = bundleOf(ca, { x509Authorities: [{ asn1: ca.der, tainted: false }, { asn1: shortCa.der, tainted: false }] });
    expect(calculateRefreshHintMs(both)).toBe(361_000);
    expect(calculateRefreshHintMs(bundleOf(ca, { x509Authorities: [] }))).toBe(minimumRefreshHintMs);
  });

  it("polls four times per hint, from the fetched bundle, else the held one, else every minute", () => {
    const fetched = bundleOf(ca, { refreshHint: 400n });
    const held = bundleOf(ca, { refreshHint: 800n });
    expect(nextRefreshMs(fetched, held)).toBe(100_000);
    expect(nextRefreshMs(undefined, held)).toBe(200_000);
    expect(nextRefreshMs(undefined, undefined)).toBe(60_000);
    expect(nextRefreshMs(bundleOf(ca, { refreshHint: 1n }), undefined)).toBe(15_000);
  });
});
