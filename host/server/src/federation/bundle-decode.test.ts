import { marshalBundle } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { decodeFederatedBundle } from "./bundle-decode.js";
import { bundleOf, testAuthority } from "./test-bundles.js";

describe("decodeFederatedBundle (SPIRE's bundleutil.Decode)", () => {
  const ca = testAuthority("b.test");
  const doc = JSON.parse(marshalBundle(bundleOf(ca, { refreshHint: 300n, sequenceNumber: 7n }))) as { keys: Record<string, unknown>[] };
  const x509Key = doc.keys[0]!;
  const jwtKey = doc.keys[1]!;

  it("reads what a bundle endpoint serves, keyed by the configured trust domain", () => {
    const bundle = decodeFederatedBundle("b.test", JSON.stringify(doc));
    expect(bundle.trustDomain).toBe("b.test");
    expect(Buffer.from(bundle.x509Authorities[0]!.asn1).equals(ca.der)).toBe(true);
    expect(bundle.jwtAuthorities.map((k) => k.keyId)).toEqual(["jwt-1"]);
    expect(bundle.refreshHint).toBe(300n);
    expect(bundle.sequenceNumber).toBe(7n);
  });

  it("takes a document without keys as an empty bundle, and a negative hint as none", () => {
    const bundle = decodeFederatedBundle("b.test", '{"spiffe_refresh_hint": -5}');
    expect(bundle.x509Authorities).toEqual([]);
    expect(bundle.jwtAuthorities).toEqual([]);
    expect(bundle.refreshHint).toBe(0n);
  });

  it.each([
    ["not JSON", "{", /^failed to decode bundle: /],
    ["a key without use", JSON.stringify({ keys: [x509Key, { ...jwtKey, use: undefined }] }), /^missing use for key entry 1$/],
    ["a key with an unknown use", JSON.stringify({ keys: [{ ...x509Key, use: "enc" }] }), /^unrecognized use "enc" for key entry 0$/],
    ["an x509-svid entry with two certificates", JSON.stringify({ keys: [{ ...x509Key, x5c: [x509Key.x5c, x509Key.x5c].flat() }] }), /^expected a single certificate in x509-svid entry 0; got 2$/],
    ["a jwt-svid entry without kid", JSON.stringify({ keys: [{ ...jwtKey, kid: "" }] }), /^missing key ID in jwt-svid entry 0$/],
    ["an unknown key type", JSON.stringify({ keys: [{ ...jwtKey, kty: "oct" }] }), /^failed to decode bundle: .*unknown json web key type/],
    ["a certificate whose key is not the JWK's", JSON.stringify({ keys: [{ ...x509Key, x: jwtKey.x, y: jwtKey.y }] }), /^failed to decode bundle: .*does not match/],
    ["a fractional refresh hint", JSON.stringify({ keys: [], spiffe_refresh_hint: 1.5 }), /^failed to decode bundle: spiffe_refresh_hint is not an integer$/],
  ])("refuses %s", (_what, body, message) => {
    expect(() => decodeFederatedBundle("b.test", body)).toThrow(message);
  });
});
