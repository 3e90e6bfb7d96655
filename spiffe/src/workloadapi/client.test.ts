import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, RpcError } from "@signet/proto";
import { SpiffeId, TrustDomain } from "../id/index.js";
import { TestCa } from "../testing/pki.js";
import { FakeWorkloadApi } from "../testing/workload-api-server.js";
import { WorkloadApiClient } from "./client.js";
import type { X509Context } from "./responses.js";

const ca = TestCa.create("example.org");
const partner = TestCa.create("partner.test");
const web = "spiffe://example.org/web";
const db = "spiffe://example.org/db";

let api: FakeWorkloadApi;
let client: WorkloadApiClient;

beforeAll(async () => {
  api = await new FakeWorkloadApi().start();
  client = WorkloadApiClient.connect({ address: api.address, backoff: { initialMs: 20, maxMs: 60 } });
});
afterAll(async () => {
  client.close();
  await api.stop();
});
afterEach(() => {
  api.calls.length = 0;
  for (const list of Object.values(api.failures)) list.length = 0;
});

describe("WorkloadApiClient", () => {
  it("sends workload.spiffe.io: true on every call", async () => {
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web]));
    api.push("x509Bundles", { crl: [], bundles: { [ca.trustDomain.idString]: ca.bundleDer } });
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: ca.jwtBundleJson } });
    api.jwtSvids = (req) => ({ svids: [{ spiffeId: web, svid: ca.jwtSvid(web, req.audience), hint: "" }] });
    await client.fetchX509Svid();
    await client.fetchX509Bundles();
    await client.fetchJwtBundles();
    const jwt = await client.fetchJwtSvid({ audience: "a" });
    await client.validateJwtSvid(jwt.token, "a");
    expect(api.calls.map((c) => [c.method, c.header])).toEqual([
      ["/SpiffeWorkloadAPI/FetchX509SVID", ["true"]],
      ["/SpiffeWorkloadAPI/FetchX509Bundles", ["true"]],
      ["/SpiffeWorkloadAPI/FetchJWTBundles", ["true"]],
      ["/SpiffeWorkloadAPI/FetchJWTSVID", ["true"]],
      ["/SpiffeWorkloadAPI/ValidateJWTSVID", ["true"]],
    ]);
  });

  it("parses an X.509 context: SVIDs leaf first with their keys, own and federated bundles, first of duplicate hints", async () => {
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web, db, "spiffe://example.org/dup"], { [partner.trustDomain.idString]: partner.bundleDer }, ["internal", "external", "internal"]));
    const context = await client.fetchX509Context();
    expect(context.svids.map((s) => [s.spiffeId.toString(), s.hint])).toEqual([
      [web, "internal"],
      [db, "external"],
    ]);
    const [svid] = context.svids;
    expect(svid!.certificates[0]!.checkPrivateKey(svid!.privateKey)).toBe(true);
    expect(svid!.certificates[0]!.checkIssued(ca.cert)).toBe(true);
    expect(context.bundles.bundles().map((b) => b.trustDomain.name)).toEqual(["example.org", "partner.test"]);
    expect(context.bundles.getX509BundleForTrustDomain(partner.trustDomain).x509Authorities[0]!.raw).toEqual(partner.der);
    expect(() => context.bundles.getX509BundleForTrustDomain(TrustDomain.parse("other.test"))).toThrow(
      'x509bundle: no X.509 bundle for trust domain "other.test"',
    );
    expect((await client.fetchX509Svid()).spiffeId.toString()).toBe(web);
  });

  it("refuses a message without SVIDs or with a bad SVID, with go-spiffe's reasons", async () => {
    api.push("x509", { svids: [], crl: [], federatedBundles: {} });
    await expect(client.fetchX509Context()).rejects.toThrow("no SVIDs in response");
    const good = FakeWorkloadApi.x509Response(ca, [web]);
    const other = ca.x509Svid(db);
    api.push("x509", { ...good, svids: [{ ...good.svids[0]!, x509SvidKey: other.keyDer }] });
    await expect(client.fetchX509Context()).rejects.toThrow("x509svid: private key validation failed: leaf certificate does not match private key");
    api.push("x509", { ...good, svids: [{ ...good.svids[0]!, bundle: Buffer.from("-----BEGIN CERTIFICATE-----") }] });
    await expect(client.fetchX509Context()).rejects.toThrow(/x509bundle: cannot parse certificate/);
    api.push("x509", { ...good, svids: [{ ...good.svids[0]!, x509Svid: ca.der }] });
    await expect(client.fetchX509Context()).rejects.toThrow(/certificate validation failed/);
  });

  it("fetches JWT-SVIDs for [audience, ...extra] and the requested ID, and checks their audience", async () => {
    let seen: unknown;
    api.jwtSvids = (req) => {
      seen = req;
      return {
        svids: [
          { spiffeId: web, svid: ca.jwtSvid(web, req.audience), hint: "h" },
          { spiffeId: db, svid: ca.jwtSvid(db, req.audience), hint: "h" },
          { spiffeId: db, svid: ca.jwtSvid(db, req.audience), hint: "" },
        ],
      };
    };
    const svid = await client.fetchJwtSvid({ audience: "aud1", extraAudiences: ["aud2"], spiffeId: SpiffeId.parse(web) });
    expect(seen).toEqual({ audience: ["aud1", "aud2"], spiffeId: web });
    expect(svid.spiffeId.toString()).toBe(web);
    expect(svid.audience).toEqual(["aud1", "aud2"]);
    expect(svid.hint).toBe("h");
    expect(svid.expiry.getTime()).toBeGreaterThan(Date.now());
    const all = await client.fetchJwtSvids({ audience: "aud1" });
    expect(all.map((s) => [s.spiffeId.toString(), s.hint])).toEqual([
      [web, "h"],
      [db, ""],
    ]);

    api.jwtSvids = () => ({ svids: [{ spiffeId: web, svid: ca.jwtSvid(web, ["someone-else"]), hint: "" }] });
    await expect(client.fetchJwtSvid({ audience: "aud1" })).rejects.toThrow('expected audience in ["aud1"] (audience=["someone-else"])');
    api.jwtSvids = () => ({ svids: [] });
    await expect(client.fetchJwtSvid({ audience: "aud1" })).rejects.toThrow("there were no SVIDs in the response");
    api.jwtSvids = () => {
      throw new RpcError(Code.PERMISSION_DENIED, "no identity issued");
    };
    await expect(client.fetchJwtSvid({ audience: "aud1" })).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: "no identity issued" });
  });

  it("validates a JWT-SVID through the agent and parses it locally; the agent's refusal is the error", async () => {
    const token = ca.jwtSvid(web, ["svc"]);
    const asked: [string, string][] = [];
    api.validate = (t, a) => {
      asked.push([t, a]);
      if (a !== "svc") throw new RpcError(Code.INVALID_ARGUMENT, "token has an invalid audience");
    };
    const svid = await client.validateJwtSvid(token, "svc");
    expect(asked).toEqual([[token, "svc"]]);
    expect(svid.spiffeId.toString()).toBe(web);
    expect(svid.claims.sub).toBe(web);
    await expect(client.validateJwtSvid(token, "other")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "token has an invalid audience" });
  });

  it("parses JWT bundles as plain JWK Sets (every key needs a kid)", async () => {
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: ca.jwtBundleJson, [partner.trustDomain.idString]: partner.jwtBundleJson } });
    const set = await client.fetchJwtBundles();
    expect(set.bundles().map((b) => [b.trustDomain.name, [...b.jwtAuthorities.keys()]])).toEqual([
      ["example.org", [ca.jwtKeyId]],
      ["partner.test", [partner.jwtKeyId]],
    ]);
    const withoutKid = JSON.parse(ca.jwtBundleJson.toString()) as { keys: Record<string, unknown>[] };
    delete withoutKid.keys[0]!.kid;
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: Buffer.from(JSON.stringify(withoutKid)) } });
    await expect(client.fetchJwtBundles()).rejects.toThrow("jwtbundle: error adding authority 0 of JWKS: keyID cannot be empty");
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: Buffer.from('{"keys":[{"kty":"XYZ","kid":"k"}]}') } });
    await expect(client.fetchJwtBundles()).rejects.toThrow("jwtbundle: unable to parse JWKS: unknown json web key type 'XYZ'");
  });
});

describe("watches", () => {
  it("deliver every update; a bad message goes to onError and the stream goes on", async () => {
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web]));
    const updates: X509Context[] = [];
    const errors: Error[] = [];
    const stop = new AbortController();
    const done = client.watchX509Context({ onUpdate: (c) => updates.push(c), onError: (e) => errors.push(e) }, stop.signal);
    await until(() => updates.length === 1);
    api.push("x509", { svids: [], crl: [], federatedBundles: {} });
    await until(() => errors.length === 1);
    expect(errors[0]!.message).toBe("no SVIDs in response");
    api.push("x509", FakeWorkloadApi.x509Response(ca, [db]));
    await until(() => updates.length === 2);
    expect(updates.map((u) => u.svids[0]!.spiffeId.toString())).toEqual([web, db]);
    expect(api.callsTo("FetchX509SVID")).toHaveLength(1);
    stop.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it("retry PermissionDenied and Unavailable with linear backoff, reset by a message", async () => {
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: ca.jwtBundleJson } });
    api.failures.jwtBundles.push(
      new RpcError(Code.PERMISSION_DENIED, "no identity issued"),
      new RpcError(Code.UNAVAILABLE, "workload attestation failed"),
      new RpcError(Code.UNAVAILABLE, "again"),
    );
    const errors: Error[] = [];
    const stop = new AbortController();
    let updates = 0;
    const done = client.watchJwtBundles({ onUpdate: () => updates++, onError: (e) => errors.push(e) }, stop.signal);
    await until(() => updates === 1);
    const at = api.callsTo("FetchJWTBundles").map((c) => c.at);
    expect(at).toHaveLength(4);
    // 20 ms, 40 ms, 60 ms (capped at maxMs) between attempts; timers may fire a little late, never early.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(18);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(38);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(58);
    expect(errors.map((e) => (e as RpcError).code)).toEqual([Code.PERMISSION_DENIED, Code.UNAVAILABLE, Code.UNAVAILABLE]);
    stop.abort();
    await done;
  });

  it("stop on InvalidArgument, rejecting with it", async () => {
    api.failures.x509Bundles.push(new RpcError(Code.INVALID_ARGUMENT, "security header missing from request"));
    const errors: Error[] = [];
    const done = client.watchX509Bundles({ onUpdate: () => {}, onError: (e) => errors.push(e) }, new AbortController().signal);
    await expect(done).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "security header missing from request" });
    await new Promise((r) => setTimeout(r, 80));
    expect(api.callsTo("FetchX509Bundles")).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
