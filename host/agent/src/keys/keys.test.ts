import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateKey } from "./keys.js";

describe("generateKey", () => {
  for (const type of ["ec-p256", "ec-p384", "rsa-2048"] as const) {
    it(`builds the same SubjectPublicKeyInfo as node:crypto for ${type}`, () => {
      const key = generateKey(type);
      const exported = createPublicKey(key.privateKey).export({ type: "spki", format: "der" });
      expect(key.spki.equals(exported)).toBe(true);
    });
  }
});
