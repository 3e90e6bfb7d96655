import { generateKeyPairSync } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { describe, expect, it } from "vitest";
import { TrustDomain } from "../id/index.js";
import { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf } from "../x509/index.js";
import { BundleError, parseCertificates, parsePkixPublicKey } from "./authorities.js";
import { marshalBundle, parseBundle } from "./spiffe-bundle.js";

const td = TrustDomain.parse("example.org");

function caDer(): Buffer {
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return mintCertificateSync(
    selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(keys.publicKey), now: new Date("2026-11-23T11:00:00Z") }),
    keyObjectSigner(keys.privateKey),
  );
}

function jwtKey(kid: string) {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { publicKey: publicKey.export({ type: "spki", format: "der" }), keyId: kid, expiresAt: 0n, tainted: false };
}

describe("parseCertificates / parsePkixPublicKey (Go's x509 parsers)", () => {
  it("accepts one or several concatenated DER certificates", () => {
    const a = caDer();
    const b = caDer();
    expect(parseCertificates(a)).toHaveLength(1);
    expect(parseCertificates(Buffer.concat([a, b]))).toHaveLength(2);
  });
  it("refuses garbage, truncation and trailing bytes", () => {
    const a = caDer();
    for (const bad of [Buffer.from("nope"), a.subarray(0, a.length - 1), Buffer.concat([a, Buffer.from([0x30])])]) {
      expect(() => parseCertificates(bad)).toThrow(new BundleError("x509: malformed certificate"));
    }
  });
  it("parses SPKI keys and refuses others", () => {
    expect(parsePkixPublicKey(jwtKey("k").publicKey).asymmetricKeyType).toBe("ec");
    expect(() => parsePkixPublicKey(Buffer.from([0x30, 0x00]))).toThrow("x509: failed to parse public key");
  });
});

describe("SPIFFE bundle JSON", () => {
  const bundle: Bundle = {
    trustDomain: "example.org",
    x509Authorities: [{ asn1: caDer(), tainted: false }],
    jwtAuthorities: [jwtKey("kid-1")],
    refreshHint: 300n,
    sequenceNumber: 18446744073709551615n,
    witAuthorities: [],
  };

  it("writes SPIRE's layout and reads it back", () => {
    const json = marshalBundle(bundle);
    expect(json).toMatch(/^\{\n {4}"keys": \[/);
    expect(json).toContain('"spiffe_sequence": 18446744073709551615');
    expect(json).toContain('"spiffe_refresh_hint": 300');
    const doc = JSON.parse(json);
    expect(Object.keys(doc.keys[0])).toEqual(["use", "kty", "crv", "x", "y", "x5c"]);
    expect(Object.keys(doc.keys[1])).toEqual(["use", "kty", "kid", "crv", "x", "y"]);
    const back = parseBundle("example.org", json);
    expect(back).toEqual(bundle);
  });

  it("writes a plain JWKS on request and leaves zero sequence and hint out", () => {
    const json = marshalBundle({ ...bundle, refreshHint: 0n, sequenceNumber: 0n }, { noX509SvidKeys: true });
    expect(json).not.toContain("spiffe_");
    const plain = JSON.parse(marshalBundle(bundle, { standardJwks: true, noX509SvidKeys: true }));
    expect(plain).toEqual({ keys: [expect.not.objectContaining({ use: expect.anything() })] });
  });

  it("follows go-spiffe's parse rules", () => {
    expect(() => parseBundle("x.org", "{}")).toThrow("spiffebundle: no authorities found");
    expect(() => parseBundle("x.org", "not json")).toThrow(/^spiffebundle: unable to parse JWKS/);
    expect(parseBundle("x.org", '{"keys":[]}').x509Authorities).toEqual([]);
    const doc = JSON.parse(marshalBundle(bundle));
    const twoCerts = { keys: [{ ...doc.keys[0], x5c: [doc.keys[0].x5c[0], doc.keys[0].x5c[0]] }] };
    expect(() => parseBundle("x.org", JSON.stringify(twoCerts))).toThrow(
      "spiffebundle: expected a single certificate in x509-svid entry 0; got 2",
    );
    const noKid = { keys: [{ ...doc.keys[1], kid: undefined }] };
    expect(() => parseBundle("x.org", JSON.stringify(noKid))).toThrow("keyID cannot be empty");
    const unknownUse = { keys: [{ ...doc.keys[1], use: "other" }] };
    expect(parseBundle("x.org", JSON.stringify(unknownUse)).jwtAuthorities).toEqual([]);
    const badKty = { keys: [{ ...doc.keys[1], kty: "oct" }] };
    expect(() => parseBundle("x.org", JSON.stringify(badKty))).toThrow(/unknown json web key type/);
    const mismatched = { keys: [{ ...doc.keys[1], use: "x509-svid", kid: undefined, x5c: doc.keys[0].x5c }] };
    expect(() => parseBundle("x.org", JSON.stringify(mismatched))).toThrow(/does not match/);
  });
});
