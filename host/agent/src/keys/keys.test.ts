import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { createCsr, parseCsr } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { csrFor, generateKey } from "./keys.js";

describe("generateKey", () => {
  for (const type of ["ec-p256", "ec-p384", "rsa-2048"] as const) {
    it(`builds the same SubjectPublicKeyInfo and PKCS#8 as node:crypto for ${type}`, () => {
      // EC keys: many, so that private scalars and coordinates with leading zero bytes turn up
      for (let i = 0; i < (type === "rsa-2048" ? 1 : 300); i++) {
        const key = generateKey(type);
        expect(key.spki.equals(createPublicKey(key.privateKey).export({ type: "spki", format: "der" }))).toBe(true);
        expect(key.pkcs8.equals(key.privateKey.export({ type: "pkcs8", format: "der" }))).toBe(true);
      }
    });
  }

  it("hands out a PKCS#8 key that signs for its SPKI", () => {
    const key = generateKey("ec-p256");
    const data = Buffer.from("workload");
    const signature = sign("sha256", data, createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" }));
    expect(verify("sha256", data, createPublicKey({ key: key.spki, format: "der", type: "spki" }), signature)).toBe(true);
  });
});

describe("csrFor", () => {
  for (const type of ["ec-p256", "ec-p384", "rsa-2048"] as const) {
    it(`signs a CSR for a ${type} key that verifies, without asking the fresh key for its details`, async () => {
      const key = generateKey(type);
      // Node 20 can deadlock in asymmetricKeyDetails on a fresh key (keys.ts header).
      Object.defineProperty(key.privateKey, "asymmetricKeyDetails", {
        get() {
          throw new Error("asymmetricKeyDetails asked");
        },
      });
      const csr = parseCsr(await csrFor(key, { uriSans: ["spiffe://example.org/w"] }));
      expect(csr.uriSan).toBe("spiffe://example.org/w");
      expect(csr.spki.equals(key.spki)).toBe(true);
      expect(csr.subject).toEqual(parseCsr(createCsr({ privateKey: generateKey("ec-p256").privateKey })).subject);
    });
  }
});
