/**
 * The Workload API as the agent serves it: the registration's own
 * definition (FetchX509SVID messages shared and encoded once) on the agent's
 * Unix-socket server. Callers in the same state get the same message; a
 * rotation reaches every stream with the new SVID, never stale bytes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, credentials } from "@grpc/grpc-js";
import { createClient } from "@signet/proto";
import { SpiffeWorkloadAPIService, type X509SVIDResponse } from "@signet/proto/workload/workload";
import { afterEach, describe, expect, it } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { StreamReader, workloadHeader, x509SvidRecord } from "../../../../test/fakes/agent-workload-api.js";
import { startUdsServer } from "../endpoints/uds/index.js";
import { AgentCache } from "../manager/cache.js";
import { workloadApiService } from "./service.js";

const ca = new TestAuthority("example.org", new Date());
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(cache: AgentCache, fetchJwtSvid: (audience: readonly string[]) => Promise<string> = async () => {
  throw new Error("not in this test");
}) {
  const dir = mkdtempSync(join(tmpdir(), "signet-wl-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const registration = workloadApiService({
    cache,
    attestCaller: async () => selectors("unix:uid:1000"),
    fetchJwtSvid: async (_entry, audience) => fetchJwtSvid(audience),
    trustDomain: "example.org",
    allowUnauthenticatedVerifiers: false,
    allowedForeignJwtClaims: [],
  });
  const server = await startUdsServer({ path: join(dir, "api.sock"), services: [registration] });
  cleanups.push(() => server.close());
  const calls = new AbortController();
  cleanups.push(() => calls.abort());
  const stream = () => {
    const channel = new Channel(`unix:${server.path}`, credentials.createInsecure(), {});
    cleanups.push(() => channel.close());
    return new StreamReader(createClient(SpiffeWorkloadAPIService, channel).fetchX509Svid({}, { metadata: workloadHeader(), signal: calls.signal }));
  };
  const channel = new Channel(`unix:${server.path}`, credentials.createInsecure(), {});
  cleanups.push(() => channel.close());
  const client = createClient(SpiffeWorkloadAPIService, channel);
  return { stream, client };
}

const leafOf = (m: X509SVIDResponse) => m.svids.map((s) => [s.spiffeId, s.x509Svid.toString("base64"), s.x509SvidKey.toString("base64")]);

describe("FetchX509SVID as served", () => {
  it("gives callers in the same state the same message, and every stream the new SVID after a rotation", async () => {
    const cache = new AgentCache();
    cache.setBundles(ca.bundle(), new Map());
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const first = x509SvidRecord(ca, entry);
    cache.setEntries([entry]);
    cache.putSvids([first]);
    const { stream } = await serve(cache);

    const a = stream();
    const b = stream();
    const [ma, mb] = [await a.next(), await b.next()];
    expect(ma).toEqual(mb);
    expect(leafOf(ma)).toEqual([["spiffe://example.org/workload/1", Buffer.concat(first.chain as Buffer[]).toString("base64"), Buffer.from(first.keyDer).toString("base64")]]);

    const rotated = x509SvidRecord(ca, entry);
    cache.putSvids([rotated]);
    const expected = [["spiffe://example.org/workload/1", Buffer.concat(rotated.chain as Buffer[]).toString("base64"), Buffer.from(rotated.keyDer).toString("base64")]];
    expect(leafOf(await a.next())).toEqual(expected);
    expect(leafOf(await b.next())).toEqual(expected);
    // A caller arriving now gets the rotated SVID too.
    expect(leafOf(await stream().next())).toEqual(expected);
  });

  it("sends a new message when only the bundle changes", async () => {
    const cache = new AgentCache();
    cache.setBundles(ca.bundle(), new Map());
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    cache.setEntries([entry]);
    cache.putSvids([x509SvidRecord(ca, entry)]);
    const { stream } = await serve(cache);
    const s = stream();
    const before = await s.next();
    const next = new TestAuthority("example.org", new Date());
    const bundle = { ...ca.bundle(), x509Authorities: [{ asn1: ca.der, tainted: false }, { asn1: next.der, tainted: false }] };
    cache.setBundles(bundle, new Map());
    const after = await s.next();
    expect(after.svids[0]!.bundle).toEqual(Buffer.concat([ca.der, next.der]));
    expect(after.svids[0]!.bundle).not.toEqual(before.svids[0]!.bundle);
    expect(after.svids[0]!.x509Svid).toEqual(before.svids[0]!.x509Svid);
  });
});

describe("FetchJWTSVID as served", () => {
  it("answers a token served again from the cache with the same message, and a new token with a new one", async () => {
    const cache = new AgentCache();
    cache.setBundles(ca.bundle(), new Map());
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"], hint: "db" });
    cache.setEntries([entry]);
    const tokens = new Map([["aud-1", "h.p.one"], ["aud-2", "h.p.two"]]);
    const { client } = await serve(cache, async (audience) => tokens.get(audience[0]!)!);
    const ask = (aud: string) => client.fetchJwtsvid({ audience: [aud], spiffeId: "" }, { metadata: workloadHeader() });
    const expected = (svid: string) => ({ svids: [{ spiffeId: "spiffe://example.org/workload/1", svid, hint: "db" }] });
    expect(await ask("aud-1")).toEqual(expected("h.p.one"));
    expect(await ask("aud-1")).toEqual(expected("h.p.one"));
    expect(await ask("aud-2")).toEqual(expected("h.p.two"));
    tokens.set("aud-1", "h.p.renewed");
    expect(await ask("aud-1")).toEqual(expected("h.p.renewed"));
  });
});
