import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, RpcError } from "@signet/proto";
import { TrustDomain } from "../id/index.js";
import { TestCa } from "../testing/pki.js";
import { FakeWorkloadApi } from "../testing/workload-api-server.js";
import { JwtSource } from "./jwt-source.js";
import { X509Source } from "./x509-source.js";

const ca = TestCa.create("example.org");
const web = "spiffe://example.org/web";
const backoff = { initialMs: 20, maxMs: 40 };

let api: FakeWorkloadApi;
beforeAll(async () => {
  api = await new FakeWorkloadApi().start();
});
afterAll(() => api.stop());

describe("X509Source", () => {
  it("create() waits for the first good message, through retries and bad messages", async () => {
    api.x509 = undefined;
    api.failures.x509.push(new RpcError(Code.PERMISSION_DENIED, "no identity issued"));
    const errors: Error[] = [];
    let resolved = false;
    const creating = X509Source.create({ address: api.address, backoff, onError: (e) => errors.push(e) }).then((s) => {
      resolved = true;
      return s;
    });
    await until(() => api.callsTo("FetchX509SVID").length === 2);
    api.push("x509", { svids: [], crl: [], federatedBundles: {} });
    await until(() => errors.length === 2);
    expect(resolved).toBe(false);
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web]));
    const source = await creating;
    expect(errors.map((e) => e.message)).toEqual(["no identity issued", "no SVIDs in response"]);
    expect(source.getX509Svid().spiffeId.toString()).toBe(web);
    expect(source.getX509BundleForTrustDomain(ca.trustDomain).x509Authorities[0]!.raw).toEqual(ca.der);
    await source.close();
    expect(() => source.getX509Svid()).toThrow("x509source: source is closed");
  });

  it("follows rotation, keeps the last good state on a bad message, tells subscribers", async () => {
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web]));
    const source = await X509Source.create({ address: api.address, backoff });
    const first = source.getX509Svid();
    const seen: string[] = [];
    source.subscribe((context) => seen.push(context.svids[0]!.leaf.serialNumber));
    api.push("x509", FakeWorkloadApi.x509Response(ca, [web]));
    await until(() => seen.length === 1);
    const rotated = source.getX509Svid();
    expect(rotated.leaf.serialNumber).not.toBe(first.leaf.serialNumber);
    expect(seen).toEqual([rotated.leaf.serialNumber]);
    const bad = FakeWorkloadApi.x509Response(ca, [web]);
    api.push("x509", { ...bad, svids: [{ ...bad.svids[0]!, x509SvidKey: Buffer.from("junk") }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(source.getX509Svid()).toBe(rotated);
    expect(seen).toHaveLength(1);
    await source.close();
  });

  it("create() rejects when the server says InvalidArgument, and when the wait is aborted", async () => {
    api.failures.x509.push(new RpcError(Code.INVALID_ARGUMENT, "security header missing from request"));
    await expect(X509Source.create({ address: api.address, backoff })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    api.x509 = undefined;
    const abort = new AbortController();
    const creating = X509Source.create({ address: api.address, backoff, signal: abort.signal });
    await until(() => api.callsTo("FetchX509SVID").length > 0);
    abort.abort();
    await expect(creating).rejects.toThrow("x509source: waiting for the first update was aborted");
  });
});

describe("JwtSource", () => {
  it("waits for JWT bundles, fetches JWT-SVIDs and validates tokens against its bundles", async () => {
    api.push("jwtBundles", { bundles: { [ca.trustDomain.idString]: ca.jwtBundleJson } });
    api.jwtSvids = (req) => ({ svids: [{ spiffeId: web, svid: ca.jwtSvid(web, req.audience), hint: "" }] });
    const source = await JwtSource.create({ address: api.address, backoff });
    expect([...source.getJwtBundleForTrustDomain(TrustDomain.parse("example.org")).jwtAuthorities.keys()]).toEqual([ca.jwtKeyId]);
    const svid = await source.fetchJwtSvid({ audience: "svc" });
    expect(source.validateJwtSvid(svid.token, ["svc"]).spiffeId.toString()).toBe(web);
    expect(() => source.validateJwtSvid(svid.token, ["other"])).toThrow(/expected audience/);
    const stranger = TestCa.create("example.org").jwtSvid(web, ["svc"]);
    expect(() => source.validateJwtSvid(stranger, ["svc"])).toThrow(/invalid signature/);
    await source.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
