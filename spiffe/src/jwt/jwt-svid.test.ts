import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JwtSvidError, base64url, joseSignature, jwtAlgorithmFor } from "./jws.js";
import { jwtSvidSigningInput, jwtSvidToken, parseJwtSvidInsecure, validateJwtSvid, verifyJwtSvidSignature } from "./jwt-svid.js";

const now = 1_800_000_000;
const claims = { sub: "spiffe://example.org/web", aud: ["a", "b"], exp: now + 300, iat: now };

function issue(kind: "P-256" | "P-384" | "RSA", extra: Partial<typeof claims> & { iss?: string; jti?: string } = {}) {
  const pair = kind === "RSA" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: kind });
  const alg = jwtAlgorithmFor(pair.privateKey);
  const input = jwtSvidSigningInput({ alg, kid: "kid1" }, { ...claims, ...extra });
  const hash = alg === "ES384" ? "sha384" : "sha256";
  const der = sign(hash, Buffer.from(input), { key: pair.privateKey, dsaEncoding: "der" });
  return { token: jwtSvidToken(input, joseSignature(alg, der)), ...pair, alg };
}

describe("JWT-SVID", () => {
  it.each(["P-256", "P-384", "RSA"] as const)("issues SPIRE's shape and verifies (%s)", (kind) => {
    const { token, publicKey, alg } = issue(kind, { iss: "https://issuer", jti: "j" });
    const [h, c, s] = token.split(".");
    expect(JSON.parse(Buffer.from(h!, "base64url").toString())).toEqual({ alg, kid: "kid1", typ: "JWT" });
    expect(Buffer.from(c!, "base64url").toString()).toBe(
      `{"aud":["a","b"],"exp":${now + 300},"iat":${now},"iss":"https://issuer","jti":"j","sub":"spiffe://example.org/web"}`,
    );
    if (kind !== "RSA") expect(Buffer.from(s!, "base64url").length).toBe(kind === "P-256" ? 64 : 96);
    const parsed = validateJwtSvid(token, { keyFor: (td, kid) => (td === "example.org" && kid === "kid1" ? publicKey : undefined), audience: ["b"], now: new Date(now * 1000) });
    expect(parsed.spiffeId.toString()).toBe("spiffe://example.org/web");
    expect(parsed.audience).toEqual(["a", "b"]);
  });

  it("rejects a signature from another key, a tampered payload, a wrong audience, expiry", () => {
    const { token, publicKey } = issue("P-256");
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const opts = { keyFor: () => publicKey, audience: ["a"], now: new Date(now * 1000) };
    expect(() => validateJwtSvid(token, { ...opts, keyFor: () => other })).toThrow(/invalid signature/);
    const [h, , s] = token.split(".");
    const forged = `${h}.${base64url(JSON.stringify({ ...claims, sub: "spiffe://example.org/admin" }))}.${s}`;
    expect(verifyJwtSvidSignature(parseJwtSvidInsecure(forged), publicKey)).toBe(false);
    expect(() => validateJwtSvid(token, { ...opts, audience: ["z"] })).toThrow(/expected audience/);
    expect(() => validateJwtSvid(token, { ...opts, now: new Date((now + 361) * 1000) })).toThrow(/expired/);
    expect(() => validateJwtSvid(token, { ...opts, keyFor: () => undefined })).toThrow(/no JWT authority/);
  });

  it("refuses malformed tokens with go-spiffe's reasons", () => {
    const enc = (o: unknown) => base64url(JSON.stringify(o));
    const sig = base64url(Buffer.alloc(64));
    const cases: [string, RegExp][] = [
      ["a.b", /three parts/],
      [`${enc({ alg: "none", kid: "k" })}.${enc(claims)}.${sig}`, /unexpected signature algorithm/],
      [`${enc({ alg: "HS256", kid: "k" })}.${enc(claims)}.${sig}`, /unexpected signature algorithm/],
      [`${enc({ alg: "ES256" })}.${enc(claims)}.${sig}`, /missing key id/],
      [`${enc({ alg: "ES256", kid: "k", typ: "xx" })}.${enc(claims)}.${sig}`, /type not equal/],
      [`${enc({ alg: "ES256", kid: "k" })}.${enc({ ...claims, sub: "" })}.${sig}`, /missing subject/],
      [`${enc({ alg: "ES256", kid: "k" })}.${enc({ sub: claims.sub, aud: "a" })}.${sig}`, /missing exp/],
      [`${enc({ alg: "ES256", kid: "k" })}.${enc({ ...claims, sub: "spiffe://Bad/x" })}.${sig}`, /invalid subject claim/],
      [`${enc({ alg: "ES256", kid: "k" })}.${enc({ ...claims, aud: [1] })}.${sig}`, /aud must be/],
      [`${enc({ alg: "ES256", kid: "k" })}.bm90IGpzb24.${sig}`, /not JSON/],
      [`${enc({ alg: "ES256", kid: "k" })}.${enc(claims)}.a+b`, /base64url/],
    ];
    for (const [token, reason] of cases) {
      expect(() => parseJwtSvidInsecure(token), token).toThrow(JwtSvidError);
      expect(() => parseJwtSvidInsecure(token), token).toThrow(reason);
    }
    expect(parseJwtSvidInsecure(`${enc({ alg: "ES256", kid: "k" })}.${enc({ ...claims, aud: "solo" })}.${sig}`).audience).toEqual(["solo"]);
  });

  it("converts DER ECDSA signatures with short integers to fixed-width r||s", () => {
    // r = 1, s = 0x80 (needs a leading zero in DER)
    const der = Buffer.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]);
    const raw = joseSignature("ES256", der);
    expect(raw.length).toBe(64);
    expect(raw[31]).toBe(1);
    expect(raw[63]).toBe(0x80);
    expect(() => joseSignature("ES256", Buffer.from([0x30, 0x01]))).toThrow(/malformed ECDSA signature/);
  });
});
