import { generateKeyPairSync } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { TrustDomain, keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { BundleError, emptyBundle, revokeJwtAuthority, revokeX509Authority, taintJwtAuthority, taintX509Authority, x509AuthorityId } from "./bundle.js";

function root(): Buffer {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return mintCertificateSync(selfSignedCaTemplate({ trustDomain: TrustDomain.parse("example.org"), spki: spkiOf(privateKey) }), keyObjectSigner(privateKey));
}

function bundleWith(certs: Buffer[], kids: string[]): Bundle {
  return {
    ...emptyBundle("example.org"),
    x509Authorities: certs.map((asn1) => ({ asn1, tainted: false })),
    jwtAuthorities: kids.map((keyId) => ({ keyId, publicKey: Buffer.from([1]), expiresAt: 0n, tainted: false })),
  };
}

function refusal(fn: () => unknown): { kind: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof BundleError) return { kind: e.kind, message: e.message };
    throw e;
  }
  throw new Error("expected a BundleError");
}

describe("bundle authority changes", () => {
  it("taints then revokes an X.509 authority by its SKI, with SPIRE's refusals", () => {
    const [a, b] = [root(), root()];
    const id = x509AuthorityId(a);
    expect(id).toMatch(/^[0-9a-f]{40}$/);
    let bundle = bundleWith([a, b], []);
    expect(refusal(() => revokeX509Authority(bundle, id))).toEqual({ kind: "invalid", message: "it is not possible to revoke an untainted root CA" });
    expect(refusal(() => taintX509Authority(bundle, "00"))).toEqual({ kind: "not-found", message: "no ca found with provided subject key ID" });
    bundle = { ...bundle, ...taintX509Authority(bundle, id) };
    expect(bundle.x509Authorities.map((x) => x.tainted)).toEqual([true, false]);
    expect(refusal(() => taintX509Authority(bundle, id))).toEqual({ kind: "invalid", message: "root CA is already tainted" });
    bundle = { ...bundle, ...revokeX509Authority(bundle, id) };
    expect(bundle.x509Authorities.map((x) => x.asn1)).toEqual([b]);
    expect(refusal(() => revokeX509Authority(bundle, id))).toEqual({ kind: "not-found", message: "no root CA found with provided subject key ID" });
    expect(refusal(() => taintX509Authority(bundleWith([Buffer.from("junk")], []), id)).kind).toBe("internal");
  });

  it("taints then revokes a JWT key by kid", () => {
    let bundle = bundleWith([], ["k1", "k2"]);
    expect(refusal(() => revokeJwtAuthority(bundle, "k1"))).toEqual({ kind: "invalid", message: "it is not possible to revoke an untainted key" });
    expect(refusal(() => taintJwtAuthority(bundle, "k9"))).toEqual({ kind: "not-found", message: "no JWT Key found with provided key ID" });
    bundle = { ...bundle, ...taintJwtAuthority(bundle, "k1") };
    expect(refusal(() => taintJwtAuthority(bundle, "k1"))).toEqual({ kind: "invalid", message: "key is already tainted" });
    bundle = { ...bundle, ...revokeJwtAuthority(bundle, "k1") };
    expect(bundle.jwtAuthorities.map((k) => k.keyId)).toEqual(["k2"]);
    expect(refusal(() => revokeJwtAuthority(bundle, "k1"))).toEqual({ kind: "not-found", message: "no JWT Key found with provided key ID" });
  });
});
