/**
 * FetchJWTSVID and ValidateJWTSVID over a real gRPC server and a real
 * AgentCache (spiffe-standards.md 5.4-5.6): SPIRE's argument checks and
 * messages, one token per entitled entry, the keys a caller may validate
 * with (own bundle and the federated bundles its entries federate with),
 * and foreign claims filtered by allowed_foreign_jwt_claims.
 */
import { Code, RpcError } from "@signet/proto";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { parseJwtSvidInsecure } from "@signet/spiffe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { type AgentWorkloadApi, type AgentWorkloadApiOptions, JwtSigner, startAgentWorkloadApi, workloadHeader } from "../../../../test/fakes/agent-workload-api.js";
import { spiffeIdOf } from "../manager/manager.js";

const ca = new TestAuthority("example.org", new Date());
const federated = new TestAuthority("federated.test", new Date());
/** Same trust domain and key id as `ca`, another key: its tokens carry a bad signature. */
const impostor = new TestAuthority("example.org", new Date());
const ownSigner = new JwtSigner("own-signer");
const federatedSigner = new JwtSigner("federated-signer");

const audience = "spiffe://example.org/db";
const nowSeconds = () => Math.floor(Date.now() / 1000);

let apis: AgentWorkloadApi[] = [];
let api: AgentWorkloadApi;

async function start(options: AgentWorkloadApiOptions = {}): Promise<AgentWorkloadApi> {
  const started = await startAgentWorkloadApi(options);
  apis.push(started);
  started.attest = { selectors: selectors("unix:uid:1000", "unix:gid:1000") };
  started.cache.setBundles(
    { ...ca.bundle(), jwtAuthorities: [...ca.bundle().jwtAuthorities, ownSigner.authority] },
    new Map([["federated.test", { ...federated.bundle(), jwtAuthorities: [...federated.bundle().jwtAuthorities, federatedSigner.authority] }]]),
  );
  started.fetchJwtSvid = async (entry, aud) => ca.jwt(spiffeIdOf(entry), aud, nowSeconds(), nowSeconds() + 300);
  return started;
}

beforeEach(async () => {
  api = await start();
});
afterEach(async () => {
  await Promise.all(apis.map((a) => a.close()));
  apis = [];
});

const options = () => ({ metadata: workloadHeader() });
const rejection = (code: Code, message: string | RegExp) =>
  expect.objectContaining({ code, message: typeof message === "string" ? message : expect.stringMatching(message) });

describe("FetchJWTSVID", () => {
  const fetch = (aud: string[], spiffeId = "") => api.client.fetchJwtsvid({ audience: aud, spiffeId }, options());
  const e1 = workloadEntry(1, { selectors: ["unix:uid:1000"], hint: "internal" });
  const e2 = workloadEntry(2, { selectors: ["unix:gid:1000"] });
  const notMine = workloadEntry(3, { selectors: ["unix:uid:3000"] });

  beforeEach(() => {
    api.cache.setEntries([e2, notMine, e1]);
  });

  it("refuses a request without audience before attesting the caller", async () => {
    await expect(fetch([])).rejects.toEqual(rejection(Code.INVALID_ARGUMENT, "audience must be specified"));
    expect(api.attestCalls).toBe(0);
  });

  it.each(["not-a-spiffe-id", "spiffe://example.org/a/", "spiffe://Example.org/a"])("refuses the requested SPIFFE ID %s", async (id) => {
    await expect(fetch([audience], id)).rejects.toEqual(rejection(Code.INVALID_ARGUMENT, /^invalid requested SPIFFE ID: .+/));
    expect(api.attestCalls).toBe(0);
  });

  it("returns a token for every entry of the caller, ordered by entry id, with its hint and the requested audiences", async () => {
    const res = await fetch([audience, "extra"]);
    expect(res.svids.map((s) => [s.spiffeId, s.hint])).toEqual([
      ["spiffe://example.org/workload/1", "internal"],
      ["spiffe://example.org/workload/2", ""],
    ]);
    for (const svid of res.svids) {
      const token = parseJwtSvidInsecure(svid.svid);
      expect(token.spiffeId.toString()).toBe(svid.spiffeId);
      expect(token.audience).toEqual([audience, "extra"]);
    }
  });

  it("needs no X509-SVID: entries still waiting for theirs get JWT-SVIDs", async () => {
    expect(api.cache.svidCount).toBe(0);
    await expect(fetch([audience])).resolves.toMatchObject({ svids: [{}, {}] });
  });

  it("returns only the requested identity when spiffe_id is given", async () => {
    const res = await fetch([audience], "spiffe://example.org/workload/2");
    expect(res.svids.map((s) => s.spiffeId)).toEqual(["spiffe://example.org/workload/2"]);
  });

  it("refuses with PermissionDenied a requested identity the caller is not entitled to", async () => {
    await expect(fetch([audience], "spiffe://example.org/workload/3")).rejects.toEqual(rejection(Code.PERMISSION_DENIED, "no identity issued"));
  });

  it("refuses with PermissionDenied a caller no entry matches", async () => {
    api.attest = { selectors: selectors("unix:uid:4000") };
    await expect(fetch([audience])).rejects.toEqual(rejection(Code.PERMISSION_DENIED, "no identity issued"));
  });

  it("answers Unavailable when a token cannot be minted", async () => {
    api.fetchJwtSvid = async (entry) => {
      if (entry.id === e2.id) throw new Error("server unreachable");
      return ca.jwt(spiffeIdOf(entry), [audience], nowSeconds(), nowSeconds() + 300);
    };
    await expect(fetch([audience])).rejects.toEqual(rejection(Code.UNAVAILABLE, "could not fetch JWT-SVID: server unreachable"));
  });

  it("keeps a duplicated hint on the oldest entry", async () => {
    const newer = workloadEntry(4, { selectors: ["unix:uid:1000"], hint: "shared", createdAt: 2000n });
    const older = workloadEntry(5, { selectors: ["unix:uid:1000"], hint: "shared", createdAt: 1000n });
    api.cache.setEntries([e1, newer, older]);
    const res = await fetch([audience]);
    expect(res.svids.map((s) => s.spiffeId)).toEqual(["spiffe://example.org/workload/1", "spiffe://example.org/workload/5"]);
  });

  it("passes the attestor's status through", async () => {
    api.attest = { error: new RpcError(Code.UNAVAILABLE, "workload attestation failed") };
    await expect(fetch([audience])).rejects.toEqual(rejection(Code.UNAVAILABLE, "workload attestation failed"));
  });
});

describe("ValidateJWTSVID", () => {
  const validate = (svid: string, aud = audience, on = api) => on.client.validateJwtsvid({ audience: aud, svid }, options());
  const invalid = (message: string | RegExp) => rejection(Code.INVALID_ARGUMENT, message);
  const callerEntry = (federatesWith: string[] = []): Entry => workloadEntry(1, { selectors: ["unix:uid:1000"], federatesWith });
  const ownToken = (aud = [audience], exp = nowSeconds() + 300) => ca.jwt("spiffe://example.org/workload/9", aud, nowSeconds() - 10, exp);

  it.each([
    ["audience", "", "svid", "audience must be specified"],
    ["svid", audience, "", "svid must be specified"],
  ])("refuses an empty %s before attesting the caller", async (_field, aud, svid, message) => {
    await expect(api.client.validateJwtsvid({ audience: aud, svid }, options())).rejects.toEqual(invalid(message));
    expect(api.attestCalls).toBe(0);
  });

  it("returns the subject and every claim of a valid own-trust-domain token, aud as a list", async () => {
    const iat = nowSeconds() - 10;
    const exp = nowSeconds() + 300;
    const token = ca.jwt("spiffe://example.org/workload/9", [audience, "other"], iat, exp);
    const res = await validate(token);
    expect(res.spiffeId).toBe("spiffe://example.org/workload/9");
    expect(res.claims).toEqual({ sub: "spiffe://example.org/workload/9", aud: [audience, "other"], exp, iat });
  });

  it("returns a string aud as a one-element list and keeps claims SPIRE does not issue for the own trust domain", async () => {
    const exp = nowSeconds() + 300;
    const token = ownSigner.sign({ sub: "spiffe://example.org/workload/9", aud: audience, exp, groups: ["a", "b"], tenant: "t1" });
    const res = await validate(token);
    expect(res.claims).toEqual({ sub: "spiffe://example.org/workload/9", aud: [audience], exp, groups: ["a", "b"], tenant: "t1" });
  });

  it("validates for a caller that holds no identity", async () => {
    api.attest = { selectors: selectors("unix:uid:4000") };
    await expect(validate(ownToken())).resolves.toMatchObject({ spiffeId: "spiffe://example.org/workload/9" });
  });

  it("refuses a token for another audience", async () => {
    await expect(validate(ownToken(["spiffe://example.org/cache"]))).rejects.toEqual(invalid(/expected audience in \["spiffe:\/\/example\.org\/db"\]/));
  });

  it("refuses an expired token", async () => {
    const token = ca.jwt("spiffe://example.org/workload/9", [audience], nowSeconds() - 7200, nowSeconds() - 3600);
    await expect(validate(token)).rejects.toEqual(invalid("token has expired"));
  });

  it("refuses a token whose signature does not verify with the authority of its kid", async () => {
    const token = impostor.jwt("spiffe://example.org/workload/9", [audience], nowSeconds(), nowSeconds() + 300);
    expect(parseJwtSvidInsecure(token).header.kid).toBe(ca.jwtKeyId);
    await expect(validate(token)).rejects.toEqual(invalid(/invalid signature/));
  });

  it("refuses a token signed with a key the bundle does not hold", async () => {
    const token = ownSigner.sign({ sub: "spiffe://example.org/workload/9", aud: [audience], exp: nowSeconds() + 300 }, { kid: "unknown-kid" });
    await expect(validate(token)).rejects.toEqual(invalid(/"unknown-kid".*"example\.org"/));
  });

  it("refuses what is not a JWT", async () => {
    await expect(validate("not.a-token")).rejects.toEqual(invalid(/unable to parse JWT token/));
  });

  it("accepts a token of a federated trust domain the caller's entry federates with, keeping only sub, aud and exp", async () => {
    api.cache.setEntries([callerEntry(["federated.test"])]);
    const exp = nowSeconds() + 300;
    const token = federatedSigner.sign({ sub: "spiffe://federated.test/api", aud: audience, exp, iat: nowSeconds(), groups: ["a"], iss: "x" });
    const res = await validate(token);
    expect(res.spiffeId).toBe("spiffe://federated.test/api");
    expect(res.claims).toEqual({ sub: "spiffe://federated.test/api", aud: [audience], exp });

    const standard = federated.jwt("spiffe://federated.test/api", [audience], nowSeconds() - 10, exp);
    expect((await validate(standard)).claims).toEqual({ sub: "spiffe://federated.test/api", aud: [audience], exp });
  });

  it("keeps the foreign claims listed in allowed_foreign_jwt_claims", async () => {
    const allowing = await start({ allowedForeignJwtClaims: ["groups", "iat"] });
    allowing.cache.setEntries([callerEntry(["federated.test"])]);
    const exp = nowSeconds() + 300;
    const iat = nowSeconds() - 10;
    const token = federatedSigner.sign({ sub: "spiffe://federated.test/api", aud: [audience], exp, iat, groups: ["a"], tenant: "t1" });
    expect((await validate(token, audience, allowing)).claims).toEqual({ sub: "spiffe://federated.test/api", aud: [audience], exp, iat, groups: ["a"] });
  });

  it("refuses a token of a federated trust domain none of the caller's entries federates with", async () => {
    api.cache.setEntries([callerEntry(), workloadEntry(2, { selectors: ["unix:uid:2000"], federatesWith: ["federated.test"] })]);
    const token = federated.jwt("spiffe://federated.test/api", [audience], nowSeconds(), nowSeconds() + 300);
    await expect(validate(token)).rejects.toEqual(invalid(/"federated\.test"/));
  });

  it("refuses a token of a trust domain the agent has no bundle for", async () => {
    api.cache.setEntries([callerEntry(["unknown.test"])]);
    const token = new TestAuthority("unknown.test", new Date()).jwt("spiffe://unknown.test/api", [audience], nowSeconds(), nowSeconds() + 300);
    await expect(validate(token)).rejects.toEqual(invalid(/"unknown\.test"/));
  });
});
