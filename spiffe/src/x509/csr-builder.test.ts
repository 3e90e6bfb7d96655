import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCsr } from "./csr-builder.js";
import { parseCsr } from "./csr.js";

describe("createCsr", () => {
  it.each([
    ["P-256", () => generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["P-384", () => generateKeyPairSync("ec", { namedCurve: "P-384" })],
    ["RSA-2048", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
  ])("builds a request our parser verifies (%s)", (_name, gen) => {
    const { privateKey, publicKey } = gen();
    const der = createCsr({ privateKey, uriSans: ["spiffe://example.org/workload"], dnsNames: ["a.example.org"] });
    const csr = parseCsr(der);
    expect(csr.uriSan).toBe("spiffe://example.org/workload");
    expect(csr.dnsSans).toEqual(["a.example.org"]);
    expect(csr.spki.equals(publicKey.export({ type: "spki", format: "der" }))).toBe(true);
  });

  it("builds the agent's attestation request: no SANs, subject C=US, O=SPIRE", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const der = createCsr({ privateKey });
    const csr = parseCsr(der);
    expect(csr.uriSan).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), "signet-csr-"));
    writeFileSync(join(dir, "r.der"), der);
    const text = execFileSync("openssl", ["req", "-inform", "DER", "-in", join(dir, "r.der"), "-noout", "-verify", "-subject"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(text).toMatch(/C\s*=\s*US, O\s*=\s*SPIRE/);
  });

  it("refuses a public key", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(() => createCsr({ privateKey: publicKey })).toThrow(/private key/);
  });
});
