import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TrustDomain } from "../id/index.js";
import { TestCa } from "../testing/pki.js";
import { X509Bundle, X509BundleSet } from "../x509bundle/index.js";
import { verifyX509Svid } from "./verify.js";
import { X509Svid, X509SvidError } from "./x509-svid.js";

const ca = TestCa.create("example.org");
const web = "spiffe://example.org/web";
const bundles = new X509BundleSet([X509Bundle.parseRaw(ca.trustDomain, ca.bundleDer)]);

describe("X509Svid.parseRaw (go-spiffe ParseRaw)", () => {
  it("parses a chain and its key", () => {
    const minted = ca.intermediate().x509Svid(web);
    const svid = X509Svid.parseRaw(minted.certDer, minted.keyDer, "internal");
    expect(svid.spiffeId.toString()).toBe(web);
    expect(svid.certificates).toHaveLength(2);
    expect(svid.hint).toBe("internal");
    expect(svid.certificatesPem()).toContain("-----BEGIN CERTIFICATE-----");
  });

  it.each([
    ["garbage certificates", () => [Buffer.from("nope"), ca.x509Svid(web).keyDer], "x509svid: cannot parse DER encoded certificate: x509: malformed certificate"],
    ["garbage key", () => [ca.x509Svid(web).certDer, Buffer.from("nope")], /^x509svid: cannot parse DER encoded private key: /],
    ["no certificates", () => [Buffer.alloc(0), ca.x509Svid(web).keyDer], "x509svid: certificate validation failed: no certificates found"],
    ["a CA as leaf", () => [ca.der, ca.x509Svid(web).keyDer], "x509svid: certificate validation failed: leaf certificate SPIFFE ID must have a non-root path"],
    [
      "a leaf as signer",
      () => {
        const a = ca.x509Svid(web);
        return [Buffer.concat([a.certDer, ca.x509Svid(web).certDer]), a.keyDer];
      },
      "x509svid: certificate validation failed: signing certificate must have CA flag set to true",
    ],
    ["another leaf's key", () => [ca.x509Svid(web).certDer, ca.x509Svid(web).keyDer], "x509svid: private key validation failed: leaf certificate does not match private key"],
  ] as const)("refuses %s", (_name, input, message) => {
    const [cert, key] = input() as [Buffer, Buffer];
    expect(() => X509Svid.parseRaw(cert, key)).toThrow(X509SvidError);
    expect(() => X509Svid.parseRaw(cert, key)).toThrow(message);
  });
});

describe("verifyX509Svid (go-spiffe Verify)", () => {
  const leaf = (minted: { certDer: Buffer; keyDer: Buffer }) => [...X509Svid.parseRaw(minted.certDer, minted.keyDer).certificates];

  it("returns the ID and the chain up to the bundle's root", () => {
    const intermediate = ca.intermediate();
    const { spiffeId, verifiedChains } = verifyX509Svid(leaf(intermediate.x509Svid(web)), bundles);
    expect(spiffeId.toString()).toBe(web);
    expect(verifiedChains.map((c) => c.length)).toEqual([3]);
    expect(verifiedChains[0]![2]!.raw).toEqual(ca.der);
  });

  it("refuses with go-spiffe's reasons", () => {
    expect(() => verifyX509Svid([], bundles)).toThrow("x509svid: empty certificates chain");
    expect(() => verifyX509Svid([new X509Certificate(ca.der)], bundles)).toThrow("x509svid: leaf certificate with CA flag set to true");
    const stranger = TestCa.create("other.test");
    expect(() => verifyX509Svid(leaf(stranger.x509Svid("spiffe://other.test/x")), bundles)).toThrow(
      'x509svid: could not get X509 bundle: x509bundle: no X.509 bundle for trust domain "other.test"',
    );
    const intermediate = ca.intermediate();
    const [onlyLeaf] = leaf(intermediate.x509Svid(web));
    expect(() => verifyX509Svid([onlyLeaf!], bundles)).toThrow("x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority");
    const past = new Date(Date.now() - 3600_000);
    expect(() => verifyX509Svid(leaf(ca.x509Svid(web, { now: past, ttlSeconds: 60 })), bundles)).toThrow(
      /^x509svid: could not verify leaf certificate: x509: certificate has expired or is not yet valid/,
    );
    expect(() => verifyX509Svid(leaf(ca.x509Svid(web)), new X509BundleSet([X509Bundle.parseRaw(TrustDomain.parse("example.org"), TestCa.create("example.org").der)]))).toThrow(
      "x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority",
    );
  });
});
