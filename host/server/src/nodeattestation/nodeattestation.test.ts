import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { CsrError, TrustDomain, createCsr } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { agentCsrPublicKey } from "./agent-csr.js";
import { paramsProblem } from "./attest.js";
import { AttestationError } from "./errors.js";
import { joinTokenAgentId } from "./join-token.js";
import { dedupeSelectors } from "./selectors.js";

const key = () => generateKeyPairSync("ec", { namedCurve: "P-256" });

describe("agent CSRs", () => {
  it("yields the requested key, even when the self-signature is wrong", () => {
    const { privateKey } = key();
    const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
    expect(agentCsrPublicKey(createCsr({ privateKey }))).toEqual(spki);
    const other = key().publicKey.export({ type: "spki", format: "der" });
    expect(agentCsrPublicKey(createCsr({ privateKey, spki: other }))).toEqual(other);
  });

  it("refuses what Go's parser refuses: PEM, garbage, truncation", () => {
    const der = createCsr({ privateKey: key().privateKey });
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    for (const bad of [Buffer.from(pem), Buffer.from("garbage"), der.subarray(0, der.length - 3), Buffer.concat([der, Buffer.from([0])])]) {
      expect(() => agentCsrPublicKey(bad)).toThrow(CsrError);
    }
  });
});

describe("join token agent IDs", () => {
  const td = TrustDomain.parse("example.org");
  it("puts the token in one path segment", () => {
    expect(joinTokenAgentId(td, "abc-123").toString()).toBe("spiffe://example.org/spire/agent/join_token/abc-123");
  });
  it("refuses tokens that are not one valid segment, as SPIRE's FromSegments does", () => {
    for (const [token, reason] of [
      ["a/b", "path segment characters are limited to letters, numbers, dots, dashes, and underscores"],
      ["..", "path cannot contain dot segments"],
      ["a b", "path segment characters are limited to letters, numbers, dots, dashes, and underscores"],
    ]) {
      const err = (() => {
        try {
          joinTokenAgentId(td, token!);
        } catch (e) {
          return e as AttestationError;
        }
        throw new Error("accepted");
      })();
      expect(err).toBeInstanceOf(AttestationError);
      expect([err.kind, err.message]).toEqual(["internal", `failed to create join token ID: ${reason}`]);
    }
  });
});

describe("node selectors", () => {
  it("are deduplicated and sorted by type then value, bytewise", () => {
    expect(
      dedupeSelectors([
        { type: "b", value: "2" },
        { type: "a", value: "z" },
        { type: "b", value: "2" },
        { type: "a", value: "Z" },
      ]),
    ).toEqual([
      { type: "a", value: "Z" },
      { type: "a", value: "z" },
      { type: "b", value: "2" },
    ]);
  });
});

describe("first message checks", () => {
  it("names the first missing piece as SPIRE does", () => {
    const data = { type: "t", payload: Buffer.from("p") };
    const params = { csr: Buffer.from([1]) };
    expect(paramsProblem(undefined)).toBe("missing params");
    expect(paramsProblem({ data: undefined, params: undefined })).toBe("missing attestation data");
    expect(paramsProblem({ data, params: undefined })).toBe("missing X509-SVID parameters");
    expect(paramsProblem({ data, params: { csr: Buffer.alloc(0) } })).toBe("missing CSR");
    expect(paramsProblem({ data: { ...data, type: "" }, params })).toBe("missing attestation data type");
    expect(paramsProblem({ data: { ...data, payload: Buffer.alloc(0) }, params })).toBe("missing attestation data payload");
    expect(paramsProblem({ data, params })).toBeUndefined();
  });
});
