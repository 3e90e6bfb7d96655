import { Metadata } from "@grpc/grpc-js";
import { Code } from "@signet/proto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { type AgentWorkloadApi, StreamReader, startAgentWorkloadApi, workloadHeader, x509SvidRecord } from "../../../../test/fakes/agent-workload-api.js";
import { spiffeIdOf } from "../manager/manager.js";

const now = new Date();
const ca = new TestAuthority("example.org", now);
const federated = new TestAuthority("federated.test", now);
const other = new TestAuthority("other.test", now);
let api: AgentWorkloadApi;
let calls: AbortController;
beforeEach(async () => {
  api = await startAgentWorkloadApi();
  api.attest = { selectors: selectors("unix:uid:1000") };
  calls = new AbortController();
  api.cache.setBundles(ca.bundle(), new Map());
});
afterEach(async () => {
  calls.abort();
  await api.close();
});
const options = (metadata = workloadHeader()) => ({ metadata, signal: calls.signal });

describe("Workload API parity with SPIRE", () => {
  it("WIT methods refuse a call without the security header with InvalidArgument", async () => {
    await expect(new StreamReader(api.client.fetchWitsvid({ spiffeId: "" }, options(new Metadata()))).next()).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "security header missing from request" });
    await expect(new StreamReader(api.client.fetchWitBundles({}, options(new Metadata()))).next()).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "security header missing from request" });
  });

  it("FetchX509SVID's first message waits until every SVID of the caller is minted", async () => {
    const e1 = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const e2 = workloadEntry(2, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([e1, e2]);
    api.cache.putSvids([x509SvidRecord(ca, e2)]);
    const stream = new StreamReader(api.client.fetchX509Svid({}, options()));
    await vi.waitFor(() => expect(api.cache.subscriberCount).toBe(1));
    expect(await stream.quietFor(150)).toBe(true);
    api.cache.putSvids([x509SvidRecord(ca, e1)]);
    expect((await stream.next()).svids.map((s) => s.spiffeId)).toEqual(["spiffe://example.org/workload/1", "spiffe://example.org/workload/2"]);
  });

  it("FetchX509SVID sends nothing when a federated bundle the caller does not federate with changes", async () => {
    api.cache.setBundles(ca.bundle(), new Map([["other.test", other.bundle()]]));
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([entry]);
    api.cache.putSvids([x509SvidRecord(ca, entry)]);
    const stream = new StreamReader(api.client.fetchX509Svid({}, options()));
    await stream.next();
    // A sync hands the cache a freshly fetched (equal) own bundle and a changed unrelated federated bundle.
    api.cache.setBundles(ca.bundle(), new Map([["other.test", other.bundle({ sequenceNumber: 2n })]]));
    expect(await stream.quietFor(150)).toBe(true);
  });

  it.each(["fetchX509Bundles", "fetchJwtBundles"] as const)("F4 %s leaves out federated bundles none of the caller's identities federates with", async (method) => {
    api.cache.setBundles(ca.bundle(), new Map([["federated.test", federated.bundle()], ["other.test", other.bundle()]]));
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"], federatesWith: ["federated.test"] });
    const notMine = workloadEntry(2, { selectors: ["unix:uid:2000"], federatesWith: ["other.test"] });
    api.cache.setEntries([entry, notMine]);
    api.cache.putSvids([x509SvidRecord(ca, entry), x509SvidRecord(ca, notMine)]);
    const msg = await new StreamReader<{ bundles: Record<string, Buffer> }>(api.client[method]({}, options())).next();
    expect(Object.keys(msg.bundles).sort()).toEqual(["spiffe://example.org", "spiffe://federated.test"]);
  });

  it("FetchJWTSVID de-duplicates hints before filtering by spiffe_id (SPIRE): the shadowed entry's ID gets PermissionDenied", async () => {
    const older = workloadEntry(1, { selectors: ["unix:uid:1000"], hint: "shared", createdAt: 1000n });
    const newer = workloadEntry(2, { selectors: ["unix:uid:1000"], hint: "shared", createdAt: 2000n });
    api.cache.setEntries([older, newer]);
    api.fetchJwtSvid = async (e, aud) => ca.jwt(spiffeIdOf(e), aud, Math.floor(Date.now() / 1000), Math.floor(Date.now() / 1000) + 300);
    await expect(api.client.fetchJwtsvid({ audience: ["a"], spiffeId: "spiffe://example.org/workload/2" }, options())).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: "no identity issued" });
  });
});
