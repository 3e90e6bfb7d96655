import { describe, expect, it } from "vitest";
import { parseCertificate } from "./certificate.js";
import { buildSelectorValues, uriSanSelectors } from "./selectors.js";
import { intermediateCa, leafCert, newKey, rootCa } from "./testing/pki.js";
import { CertPool, verifyChains } from "./verify.js";

const root = rootCa();
const intermediate = intermediateCa(root);
const parse = (m: { der: Buffer }) => parseCertificate(m.der);

describe("chain verification (Go's x509 Verify, any extended key usage)", () => {
  it("builds leaf → intermediate → root", () => {
    const leaf = leafCert(intermediate);
    const chains = verifyChains(parse(leaf), { roots: new CertPool([parse(root)]), intermediates: new CertPool([parse(intermediate)]), now: new Date() });
    expect(chains.map((c) => c.map((x) => x.raw))).toEqual([[leaf.der, intermediate.der, root.der]]);
  });

  it("a leaf that is itself a trusted root is its own chain", () => {
    const chains = verifyChains(parse(root), { roots: new CertPool([parse(root)]), intermediates: new CertPool(), now: new Date() });
    expect(chains).toHaveLength(1);
    expect(chains[0]).toHaveLength(1);
  });

  it("finds the right root among namesakes, and every chain through a cross-signed intermediate", () => {
    const impostor = rootCa({ commonName: "Test Root CA" }); // same subject, another key
    const leaf = leafCert(intermediate);
    const chains = verifyChains(parse(leaf), { roots: new CertPool([parse(impostor), parse(root)]), intermediates: new CertPool([parse(intermediate)]), now: new Date() });
    expect(chains).toHaveLength(1);
    expect(chains[0]![2]!.raw.equals(root.der)).toBe(true);
  });

  it("checks validity against the given time, with Go's wording", () => {
    const leaf = parse(leafCert(intermediate));
    const options = { roots: new CertPool([parse(root)]), intermediates: new CertPool([parse(intermediate)]) };
    expect(() => verifyChains(leaf, { ...options, now: new Date(leaf.notBefore.getTime() - 1000) })).toThrow(
      `x509: certificate has expired or is not yet valid: current time ${new Date(leaf.notBefore.getTime() - 1000).toISOString().replace(/\.\d+Z$/, "Z")} is before ${leaf.notBefore.toISOString().replace(/\.\d+Z$/, "Z")}`,
    );
  });

  it("explains an untrusted chain with the candidate that failed, as Go's hint does", () => {
    // Same subject as the real intermediate (both inherit the root's), another key.
    const impostor = intermediateCa(root, { key: newKey() });
    const leaf = leafCert(intermediate);
    expect(() =>
      verifyChains(parse(leaf), { roots: new CertPool([parse(root)]), intermediates: new CertPool([parse(impostor)]), now: new Date() }),
    ).toThrow(/^x509: certificate signed by unknown authority \(possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "Test Root CA"\)$/);
  });
});

describe("selectors", () => {
  it("lists each CA fingerprint once across chains, then the serial number and san selectors in key order", () => {
    const leaf = parse(leafCert(intermediate, { serial: 0xabcn, uris: ["x509pop://example.org/zone/a", "x509pop://example.org/datacenter/dc/1", "spiffe://example.org/x"] }));
    const r1 = parse(root);
    const i = parse(intermediate);
    const warned: string[] = [];
    const sans = uriSanSelectors(leaf, "example.org", (u) => warned.push(u));
    const values = buildSelectorValues(leaf, [[leaf, i, r1], [leaf, i, r1]], sans);
    expect(values).toEqual([
      "subject:cn:node-1.example.org",
      expect.stringMatching(/^ca:fingerprint:[0-9a-f]{40}$/),
      expect.stringMatching(/^ca:fingerprint:[0-9a-f]{40}$/),
      "serialnumber:0abc",
      "san:datacenter:dc/1",
      "san:zone:a",
    ]);
    expect(warned).toEqual([]);
    const bare = parse(leafCert(intermediate, { commonName: "", uris: ["x509pop://example.org/lonely"] }));
    expect(buildSelectorValues(bare, [], uriSanSelectors(bare, "example.org", (u) => warned.push(u)))[0]).toMatch(/^serialnumber:/);
    expect(warned).toEqual(["x509pop://example.org/lonely"]);
  });
});
