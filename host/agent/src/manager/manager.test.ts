import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { createLogger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import { afterEach, describe, expect, it } from "vitest";
import { selectors, workloadEntries, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { FakeServerClient } from "../../../../test/fakes/agent-server-client.js";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { AgentCache } from "./cache.js";
import { Manager, type ManagerOptions } from "./manager.js";

const hour = 3600_000;

interface Harness {
  readonly clock: ManualClock;
  readonly ca: TestAuthority;
  readonly server: FakeServerClient;
  readonly cache: AgentCache;
  readonly manager: Manager;
  readonly lines: { msg: string; [k: string]: unknown }[];
  readonly tainted: X509Certificate[][];
  readonly syncErrors: unknown[];
}

const started: Manager[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.stop();
});

function harness(options: Partial<Omit<ManagerOptions, "client" | "cache" | "clock" | "log">> = {}): Harness {
  const clock = new ManualClock();
  const ca = new TestAuthority("example.org", clock.now());
  const server = new FakeServerClient(ca, clock);
  const cache = new AgentCache();
  const lines: Harness["lines"] = [];
  const tainted: X509Certificate[][] = [];
  const syncErrors: unknown[] = [];
  const manager = new Manager({
    client: server.asServerClient(),
    cache,
    clock,
    log: createLogger({ level: "debug", write: (l) => void lines.push(JSON.parse(l)) }),
    trustDomain: "example.org",
    keyType: "ec-p256",
    syncIntervalMs: 5_000,
    x509SvidCacheMaxSize: 1000,
    disableX509SvidPrefetch: false,
    jwtSvidCacheMaxSize: 1000,
    onAgentSvidTainted: (t) => void tainted.push([...t]),
    onSyncError: (e) => {
      syncErrors.push(e);
      return true;
    },
    ...options,
  });
  return { clock, ca, server, cache, manager, lines, tainted, syncErrors };
}

function start(h: Harness): void {
  h.manager.start();
  started.push(h.manager);
}

const batchSizes = (h: Harness) => h.server.calls.newX509Svids.map((b) => b.length);
const chainOf = (h: Harness, entryId: string) => h.cache.svidOf(entryId)?.chain[0];

describe("Manager synchronize", () => {
  it("mints an SVID for each entry on the first sync, up to x509_svid_cache_max_size", async () => {
    const h = harness({ x509SvidCacheMaxSize: 3 });
    h.server.entries = workloadEntries(0, 5);
    await h.manager.synchronize();

    expect(h.cache.entryMap.size).toBe(5);
    expect(h.cache.svidCount).toBe(3);
    expect(batchSizes(h)).toEqual([3]);
    expect(h.cache.ownBundle).toBe(h.server.bundle);
    expect(h.manager.lastSyncSuccess).toBe(h.clock.now().getTime());

    for (const svid of h.cache.allSvids()) {
      const leaf = new X509Certificate(svid.chain[0]!);
      const entry = h.cache.entryMap.get(svid.entryId)!;
      expect(leaf.subjectAltName).toBe(`URI:spiffe://example.org${entry.spiffeId!.path}`);
      expect(svid.spiffeId).toBe(`spiffe://example.org${entry.spiffeId!.path}`);
      expect(leaf.publicKey.equals(createPublicKey(createPrivateKey({ key: svid.keyDer, format: "der", type: "pkcs8" })))).toBe(true);
      expect(leaf.checkIssued(new X509Certificate(h.ca.der))).toBe(true);
      // Rotation at a jittered half of the hour (plus SPIRE's 10 s not-before cushion).
      expect(svid.rotateAt).toBeGreaterThanOrEqual(svid.validity.notAfter - 1.1 * (svid.validity.notAfter - svid.validity.notBefore) / 2);
      expect(svid.rotateAt).toBeLessThanOrEqual(svid.validity.notAfter - 0.9 * (svid.validity.notAfter - svid.validity.notBefore) / 2);
    }
  });

  it("mints nothing ahead of demand with disable_x509_svid_prefetch, then what a subscriber needs", async () => {
    const h = harness({ disableX509SvidPrefetch: true });
    h.server.entries = workloadEntries(0, 4);
    await h.manager.synchronize();
    expect(h.cache.svidCount).toBe(0);
    expect(h.server.calls.newX509Svids).toEqual([]);

    const sub = h.cache.subscribe(selectors("unix:uid:2"));
    expect(sub.current().pending).toBe(1);
    await h.manager.synchronize();
    expect(h.server.calls.newX509Svids).toEqual([["entry-00002"]]);
    expect(sub.current().identities.map((i) => i.entry.id)).toEqual(["entry-00002"]);
  });

  it("does not mint again before an SVID is due, and re-mints every SVID once its rotation time has come", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 3);
    await h.manager.synchronize();
    const first = h.server.entries.map((e) => chainOf(h, e.id));

    h.clock.advance(0.4 * hour);
    await h.manager.synchronize();
    expect(batchSizes(h)).toEqual([3]);

    h.clock.advance(0.2 * hour);
    await h.manager.synchronize();
    expect(batchSizes(h)).toEqual([3, 3]);
    for (const [i, e] of h.server.entries.entries()) {
      expect(chainOf(h, e.id)).not.toEqual(first[i]);
      expect(h.cache.svidOf(e.id)!.validity.notAfter).toBeGreaterThan(h.clock.now().getTime() + 0.9 * hour);
    }
  });

  it("re-mints the SVID of an entry whose revision changed", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 3);
    await h.manager.synchronize();
    const before = chainOf(h, "entry-00001");

    h.server.entries = h.server.entries.map((e) => (e.id === "entry-00001" ? { ...e, revisionNumber: 1n, selectors: [{ type: "unix", value: "uid:77" }] } : e));
    await h.manager.synchronize();
    expect(h.server.calls.newX509Svids.at(-1)).toEqual(["entry-00001"]);
    expect(chainOf(h, "entry-00001")).not.toEqual(before);
    expect(h.cache.svidOf("entry-00001")?.revision).toBe(1n);
  });

  it("drops entries the server no longer authorizes, with their SVIDs", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 3);
    await h.manager.synchronize();
    h.server.entries = h.server.entries.slice(1);
    await h.manager.synchronize();
    expect([...h.cache.entryMap.keys()]).toEqual(["entry-00001", "entry-00002"]);
    expect(h.cache.svidOf("entry-00000")).toBeUndefined();
    expect(batchSizes(h)).toEqual([3]);
  });

  it("skips malformed entries with a warning", async () => {
    const h = harness();
    h.server.entries = [workloadEntry(1), { ...workloadEntry(2), selectors: [] }, { ...workloadEntry(3), spiffeId: undefined }, { ...workloadEntry(4), id: "" }];
    await h.manager.synchronize();
    expect([...h.cache.entryMap.keys()]).toEqual(["entry-00001"]);
    expect(h.lines.filter((l) => l.msg === "Skipping malformed entry").map((l) => l.reason)).toEqual([
      "no selectors",
      "invalid SPIFFE ID: missing SPIFFE ID",
      "missing entry ID",
    ]);
  });

  it("fetches the federated bundles its entries federate with, skipping NotFound", async () => {
    const h = harness();
    const fed = new TestAuthority("fed.test", h.clock.now()).bundle();
    h.server.federated.set("fed.test", fed);
    h.server.entries = [workloadEntry(1, { federatesWith: ["spiffe://fed.test", "missing.test"] }), workloadEntry(2, { federatesWith: ["fed.test"] })];
    await h.manager.synchronize();
    expect(h.server.calls.getFederatedBundle.sort()).toEqual(["fed.test", "missing.test"]);
    expect([...h.cache.federatedBundles.keys()]).toEqual(["fed.test"]);
    expect(h.lines.some((l) => l.msg === "Federated bundle not found" && l.trust_domain === "missing.test")).toBe(true);
  });

  it("fails the sync when a federated bundle cannot be fetched for another reason", async () => {
    const h = harness();
    h.server.entries = [workloadEntry(1, { federatesWith: ["fed.test"] })];
    h.server.failNext("getFederatedBundle", new RpcError(Code.UNAVAILABLE, "down"));
    await expect(h.manager.synchronize()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(h.manager.lastSyncSuccess).toBe(0);
  });
});

describe("Manager BatchNewX509SVID batches", () => {
  it("splits 1200 due entries into calls of at most 500", async () => {
    const h = harness({ x509SvidCacheMaxSize: 2000 });
    h.server.entries = workloadEntries(0, 1200);
    await h.manager.synchronize();
    expect(batchSizes(h)).toEqual([500, 500, 200]);
    expect(h.cache.svidCount).toBe(1200);
  });

  it("halves the cap after a failed call and doubles it back after each success", async () => {
    const h = harness({ x509SvidCacheMaxSize: 2000 });
    h.server.entries = workloadEntries(0, 1200);
    h.server.failNext("newX509Svids", new RpcError(Code.RESOURCE_EXHAUSTED, "too many"));
    await expect(h.manager.synchronize()).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    expect(batchSizes(h)).toEqual([500]);
    expect(h.cache.svidCount).toBe(0);

    h.server.failNext("newX509Svids", new RpcError(Code.RESOURCE_EXHAUSTED, "too many"));
    await expect(h.manager.synchronize()).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    expect(batchSizes(h)).toEqual([500, 250]);

    await h.manager.synchronize();
    expect(batchSizes(h).slice(2)).toEqual([125, 250, 500, 325]);
    expect(h.cache.svidCount).toBe(1200);
  });

  it("keeps the SVIDs of the calls that succeeded before one failed", async () => {
    const h = harness({ x509SvidCacheMaxSize: 2000 });
    h.server.entries = workloadEntries(0, 600);
    h.server.failNext("newX509Svids", new RpcError(Code.UNAVAILABLE, "dropped"), 1, 1);
    await expect(h.manager.synchronize()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(batchSizes(h)).toEqual([500, 100]);
    expect(h.cache.svidCount).toBe(500);
  });

  it("skips an item the server refuses and keeps the others", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 3);
    h.server.refused.set("entry-00001", { code: Code.PERMISSION_DENIED, message: "not authorized" });
    await h.manager.synchronize();
    expect(h.cache.svidOf("entry-00000")).toBeDefined();
    expect(h.cache.svidOf("entry-00001")).toBeUndefined();
    expect(h.cache.svidOf("entry-00002")).toBeDefined();
    const warn = h.lines.find((l) => l.msg === "Server refused an X509-SVID");
    expect(warn).toMatchObject({ level: "warn", entry_id: "entry-00001", code: Code.PERMISSION_DENIED, error: "not authorized" });

    // The next sync asks for it again.
    h.server.refused.clear();
    await h.manager.synchronize();
    expect(h.server.calls.newX509Svids.at(-1)).toEqual(["entry-00001"]);
    expect(h.cache.svidOf("entry-00001")).toBeDefined();
  });
});

describe("Manager tainted authorities", () => {
  it("re-mints SVIDs chaining to a tainted authority and reports it for the agent SVID", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 3);
    await h.manager.synchronize();
    expect(h.tainted).toEqual([]);

    // The server moved to a new authority and tainted the old one.
    const next = new TestAuthority("example.org", h.clock.now());
    h.server.authority = next;
    h.server.bundle = { ...h.ca.bundle({ sequenceNumber: 2n }), x509Authorities: [{ asn1: h.ca.der, tainted: true }, { asn1: next.der, tainted: false }] };
    await h.manager.synchronize();

    expect(h.tainted).toHaveLength(1);
    expect(h.tainted[0]!.map((c) => c.raw)).toEqual([h.ca.der]);
    expect(batchSizes(h)).toEqual([3, 3]);
    const nextCert = new X509Certificate(next.der);
    for (const s of h.cache.allSvids()) expect(new X509Certificate(s.chain[0]!).checkIssued(nextCert)).toBe(true);

    // Once nothing chains to the tainted authority, nothing more is minted.
    await h.manager.synchronize();
    expect(batchSizes(h)).toEqual([3, 3]);
  });
});

describe("Manager loop", () => {
  /** Ticks in 100 ms steps until the fake server has seen `n` syncs. */
  async function untilSyncs(h: Harness, n: number, limitMs = 10_000): Promise<void> {
    for (let t = 0; t < limitMs && h.server.calls.sync.length < n; t += 100) await h.clock.tick(100);
    expect(h.server.calls.sync.length).toBe(n);
  }

  it("syncs every interval with 10% jitter", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 2);
    await h.manager.synchronize();
    start(h);
    await h.clock.sleepers();
    await untilSyncs(h, 4, 20_000);
    const times = h.server.calls.sync;
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(4_500);
      expect(gap).toBeLessThanOrEqual(5_600);
    }
  });

  it("backs off ×1.5 after sync errors while SVIDs are cached, and returns to the interval after success", async () => {
    const h = harness();
    h.server.entries = workloadEntries(0, 2);
    await h.manager.synchronize();
    h.server.failAlways("syncAuthorizedEntries");
    start(h);
    await h.clock.sleepers();
    await untilSyncs(h, 2);
    expect(h.syncErrors).toHaveLength(1);

    for (const [n, backoff] of [[3, 5_000], [4, 7_500], [5, 11_250]] as const) {
      await h.clock.tick(backoff - 1);
      expect(h.server.calls.sync).toHaveLength(n - 1);
      await h.clock.tick(1);
      expect(h.server.calls.sync).toHaveLength(n);
    }
    expect(h.syncErrors).toHaveLength(4);
    expect(h.lines.filter((l) => l.msg === "Synchronization failed")).toHaveLength(4);

    h.server.clearFailures();
    await h.clock.tick(16_875);
    expect(h.server.calls.sync).toHaveLength(6);
    expect(h.manager.lastSyncSuccess).toBe(h.clock.now().getTime());
    await h.clock.tick(4_499);
    expect(h.server.calls.sync).toHaveLength(6);
    await h.clock.tick(1_001);
    expect(h.server.calls.sync).toHaveLength(7);
  });

  it("keeps retrying at the interval while no SVID is cached", async () => {
    const h = harness();
    h.server.failAlways("syncAuthorizedEntries");
    start(h);
    await h.clock.sleepers();
    await untilSyncs(h, 1);
    for (const n of [2, 3, 4]) {
      await h.clock.tick(4_999);
      expect(h.server.calls.sync).toHaveLength(n - 1);
      await h.clock.tick(1);
      expect(h.server.calls.sync).toHaveLength(n);
    }
  });

  it("stops when onSyncError answers false", async () => {
    const h = harness({ onSyncError: () => false });
    h.server.failAlways("syncAuthorizedEntries", new RpcError(Code.PERMISSION_DENIED, "agent is banned"));
    start(h);
    await h.clock.sleepers();
    h.clock.advance(6_000);
    await expect.poll(() => h.server.calls.sync.length).toBe(1);
    await h.manager.stop();
    expect(h.clock.sleeping).toBe(0);
  });

  it("wakes early to mint an SVID a new subscriber needs", async () => {
    const h = harness({ disableX509SvidPrefetch: true });
    h.server.entries = workloadEntries(0, 3);
    await h.manager.synchronize();
    start(h);
    await h.clock.sleepers();
    const sub = h.cache.subscribe(selectors("unix:uid:1"));
    await expect.poll(() => sub.current().identities.length).toBe(1);
    expect(h.server.calls.newX509Svids).toEqual([["entry-00001"]]);
    // No full sync happened for it: the clock has not moved.
    expect(h.server.calls.sync).toHaveLength(1);
  });

  it("wakes at the earliest SVID rotation and re-mints it without waiting for a sync", async () => {
    const h = harness({ syncIntervalMs: 3 * hour });
    h.server.entries = workloadEntries(0, 1);
    await h.manager.synchronize();
    const rotateAt = h.cache.svidOf("entry-00000")!.rotateAt;
    start(h);
    await h.clock.sleepers();
    await h.clock.tick(Math.ceil(rotateAt - h.clock.now().getTime()) - 1);
    expect(batchSizes(h)).toEqual([1]);
    await h.clock.tick(1);
    expect(batchSizes(h)).toEqual([1, 1]);
    expect(h.server.calls.sync).toHaveLength(1);
    expect(h.cache.svidOf("entry-00000")!.rotateAt).toBeGreaterThan(h.clock.now().getTime());
  });
});

describe("Manager JWT-SVIDs", () => {
  it("reuses a token until half-life, then fetches a new one", async () => {
    const h = harness();
    const entry = workloadEntry(1);
    h.server.entries = [entry];
    const t1 = await h.manager.fetchJwtSvid(entry, ["aud-b", "aud-a"]);
    expect(await h.manager.fetchJwtSvid(entry, ["aud-a", "aud-b"])).toBe(t1);
    expect(h.server.calls.newJwtSvid).toEqual([{ entryId: entry.id, audience: ["aud-b", "aud-a"] }]);
    // A different audience set is another token.
    await h.manager.fetchJwtSvid(entry, ["aud-a"]);
    expect(h.server.calls.newJwtSvid).toHaveLength(2);
    expect(h.manager.jwtSvidCount).toBe(2);

    h.clock.advance(149_000);
    expect(await h.manager.fetchJwtSvid(entry, ["aud-a", "aud-b"])).toBe(t1);
    h.clock.advance(1_000);
    const t2 = await h.manager.fetchJwtSvid(entry, ["aud-a", "aud-b"]);
    expect(t2).not.toBe(t1);
    expect(h.server.calls.newJwtSvid).toHaveLength(3);
  });

  it("serves a still-valid cached token when the server fails, and fails without one", async () => {
    const h = harness();
    const entry = workloadEntry(1);
    h.server.entries = [entry];
    const t1 = await h.manager.fetchJwtSvid(entry, ["aud"]);
    h.clock.advance(200_000);
    h.server.failNext("newJwtSvid", new RpcError(Code.UNAVAILABLE, "down"));
    expect(await h.manager.fetchJwtSvid(entry, ["aud"])).toBe(t1);
    expect(h.lines.some((l) => l.msg === "Could not fetch a new JWT-SVID; serving the cached one" && l.spiffe_id === "spiffe://example.org/workload/1")).toBe(true);

    h.clock.advance(100_000); // t1 has expired
    h.server.failNext("newJwtSvid", new RpcError(Code.UNAVAILABLE, "down"));
    await expect(h.manager.fetchJwtSvid(entry, ["aud"])).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: "down" });

    h.server.failNext("newJwtSvid", new RpcError(Code.UNAVAILABLE, "down"));
    await expect(h.manager.fetchJwtSvid(workloadEntry(1), ["never-fetched"])).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });

  it("keeps at most jwt_svid_cache_max_size tokens", async () => {
    const h = harness({ jwtSvidCacheMaxSize: 2 });
    const entry = workloadEntry(1);
    h.server.entries = [entry];
    for (const aud of ["a", "b", "c"]) await h.manager.fetchJwtSvid(entry, [aud]);
    expect(h.manager.jwtSvidCount).toBe(2);
    await h.manager.fetchJwtSvid(entry, ["a"]);
    expect(h.server.calls.newJwtSvid).toHaveLength(4);
  });
});
