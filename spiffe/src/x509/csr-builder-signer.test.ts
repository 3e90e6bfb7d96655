import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCsr, createCsrWithSigner } from "./csr-builder.js";
import { parseCsr } from "./csr.js";
import { keyObjectSigner } from "./mint.js";

describe("createCsrWithSigner", () => {
  it.each([
    ["P-256", () => generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["P-384", () => generateKeyPairSync("ec", { namedCurve: "P-384" })],
    ["RSA-2048", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
  ])("signs through an external signer and the request verifies (%s)", async (_name, gen) => {
    const { privateKey, publicKey } = gen();
    const spki = publicKey.export({ type: "spki", format: "der" });
    const signer = keyObjectSigner(privateKey);
    const der = await createCsrWithSigner(
      { spki, subject: { country: ["US"], organization: ["SPIFFE"] }, uriSans: ["spiffe://example.org"] },
      { algorithm: signer.algorithm, sign: async (tbs) => signer.sign(tbs) as Buffer },
    );
    const csr = parseCsr(der);
    expect(csr.uriSan).toBe("spiffe://example.org");
    expect(csr.spki.equals(spki)).toBe(true);
    // Same CertificationRequestInfo as createCsr builds with the key in hand.
    const local = createCsr({ privateKey, subject: { country: ["US"], organization: ["SPIFFE"] }, uriSans: ["spiffe://example.org"] });
    expect(parseCsr(local).subject).toEqual(csr.subject);
  });

  it("refuses an empty signature", async () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const spki = publicKey.export({ type: "spki", format: "der" });
    await expect(createCsrWithSigner({ spki }, { algorithm: "ECDSA-SHA256", sign: async () => Buffer.alloc(0) })).rejects.toThrow(/empty signature/);
  });
});
