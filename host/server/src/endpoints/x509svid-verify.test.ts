import { X509Certificate } from "node:crypto";
import { TrustDomain } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { createIntermediateCa, createRootCa, mintSvid, type TestCa } from "../../../../test/e2e/spiffe-test-pki.js";
import type { X509BundleSource } from "./bundle-source.js";
import { verifyX509Svid } from "./x509svid-verify.js";

const root = createRootCa("example.org");
const bundles = (...cas: TestCa[]): X509BundleSource => ({
  async x509Authorities(td: TrustDomain) {
    const roots = cas.filter((c) => c.trustDomain.name === td.name).map((c) => new X509Certificate(c.der));
    return roots.length ? roots : undefined;
  },
});
const certs = (ders: readonly Buffer[]) => ders.map((d) => new X509Certificate(d));
const now = new Date();

// Tiny DER builders for hostile extensions.
const tlv = (tag: number, body: Buffer) => {
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const ext = (oidBytes: number[], critical: boolean, value: Buffer) =>
  seq(tlv(0x06, Buffer.from(oidBytes)), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
const bcOid = [0x55, 0x1d, 0x13];
const kuOid = [0x55, 0x1d, 0x0f];
const sanOid = [0x55, 0x1d, 0x11];
const has = (e: Buffer, oid: number[]) => e.includes(Buffer.from([0x06, oid.length, ...oid]));
const replaceExt = (oid: number[], replacement: Buffer | undefined) => (t: { extensions: readonly Buffer[] }) =>
  ({ ...t, extensions: t.extensions.flatMap((e) => (has(e, oid) ? (replacement ? [replacement] : []) : [e])) }) as never;
const uri = (s: string) => tlv(0x86, Buffer.from(s));

async function reason(chain: readonly Buffer[], source = bundles(root)): Promise<string> {
  try {
    await verifyX509Svid(certs(chain), source, { now });
  } catch (err) {
    return (err as Error).message;
  }
  return "verified";
}

describe("verifyX509Svid (go-spiffe x509svid.Verify rules)", () => {
  it("verifies a leaf signed by a bundle root and returns its ID", async () => {
    const svid = mintSvid(root, "spiffe://example.org/workload");
    const got = await verifyX509Svid(certs(svid.chain), bundles(root), { now });
    expect(got.id.toString()).toBe("spiffe://example.org/workload");
    expect(got.chain.length).toBe(1);
  });

  it("builds the chain through intermediates the peer sent, in any order", async () => {
    const mid1 = createIntermediateCa(root);
    const mid2 = createIntermediateCa(mid1);
    const svid = mintSvid(mid2, "spiffe://example.org/workload");
    const [leaf, a, b] = svid.chain;
    expect(await reason([leaf!, b!, a!])).toBe("verified");
    expect(await reason([leaf!, a!])).toContain("certificate signed by unknown authority");
  });

  it("refuses leaves without exactly one URI SAN", async () => {
    const two = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(sanOid, ext(sanOid, false, seq(uri("spiffe://example.org/a"), uri("spiffe://example.org/b")))) });
    expect(await reason(two.chain)).toBe("x509svid: could not get leaf SPIFFE ID: certificate contains more than one URI SAN");
    const none = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(sanOid, undefined) });
    expect(await reason(none.chain)).toBe("x509svid: could not get leaf SPIFFE ID: certificate contains no URI SAN");
    const bad = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(sanOid, ext(sanOid, false, seq(uri("https://example.org/a")))) });
    expect(await reason(bad.chain)).toMatch(/^x509svid: could not get leaf SPIFFE ID: /);
  });

  it("refuses CA leaves and leaves that may sign certificates or CRLs", async () => {
    const ca = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(bcOid, ext(bcOid, true, seq(tlv(0x01, Buffer.from([0xff]))))) });
    expect(await reason(ca.chain)).toBe("x509svid: leaf certificate with CA flag set to true");
    const certSign = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(kuOid, ext(kuOid, true, tlv(0x03, Buffer.from([0x01, 0x86])))) });
    expect(await reason(certSign.chain)).toBe("x509svid: leaf certificate with KeyCertSign key usage");
    const crlSign = mintSvid(root, "spiffe://example.org/a", { tweak: replaceExt(kuOid, ext(kuOid, true, tlv(0x03, Buffer.from([0x01, 0x82])))) });
    expect(await reason(crlSign.chain)).toBe("x509svid: leaf certificate with KeyCrlSign key usage");
  });

  it("refuses unknown critical extensions, expired leaves, foreign or missing bundles", async () => {
    const odd = mintSvid(root, "spiffe://example.org/a", {
      tweak: (t) => ({ ...t, extensions: [...t.extensions, ext([0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x01], true, Buffer.from([0x05, 0x00]))] }),
    });
    expect(await reason(odd.chain)).toContain("unhandled critical extension");
    const expired = mintSvid(root, "spiffe://example.org/a", { now: new Date(now.getTime() - 3600_000), ttlSeconds: 60 });
    expect(await reason(expired.chain)).toBe("x509svid: could not verify leaf certificate: x509: certificate has expired or is not yet valid");
    const got = await verifyX509Svid(certs(expired.chain), bundles(root), { now, allowExpiredLeaf: true });
    expect(got.id.toString()).toBe("spiffe://example.org/a");
    const other = createRootCa("other.org");
    const foreign = mintSvid(other, "spiffe://other.org/a");
    expect(await reason(foreign.chain)).toBe('x509svid: could not get X509 bundle: no bundle found for trust domain "other.org"');
    expect(await reason(foreign.chain, bundles(root, other))).toBe("verified");
    // Same trust domain name, different root: not trusted.
    const impostor = mintSvid(createRootCa("example.org"), "spiffe://example.org/a");
    expect(await reason(impostor.chain)).toContain("certificate signed by unknown authority");
  });

  it("refuses chains through an expired intermediate", async () => {
    const longRoot = createRootCa("example.org", { ttlSeconds: 30 * 86_400 });
    const shortMid = createIntermediateCa(longRoot); // 24 h, under a 30-day root
    const svid = mintSvid(shortMid, "spiffe://example.org/a");
    const later = new Date(Date.parse(new X509Certificate(shortMid.der).validTo) + 1000);
    await expect(verifyX509Svid(certs(svid.chain), bundles(longRoot), { now: new Date(now.getTime() + 3600_000), allowExpiredLeaf: true })).resolves.toBeDefined();
    await expect(verifyX509Svid(certs(svid.chain), bundles(longRoot), { now: later, allowExpiredLeaf: true })).rejects.toThrow(/unknown authority/);
  });
});
