import { Code, RpcError } from "@signet/proto";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import { type EncodedEntry, entryPathOf } from "./encoded-entry.js";
import { EntryCache, type EntryCacheDataStore } from "./entry-cache.js";

const td = "example.org";
const agent = "spiffe://example.org/spire/agent/join_token/t1";
const quiet = process.env.CACHE_LOG ? { debug: console.log, info: console.log, warn: console.log } : { debug() {}, info() {}, warn() {} };

function entry(spiffePath: string, parentPath: string, selectors = [{ type: "unix", value: "uid:1" }]): Entry {
  return {
    id: "",
    spiffeId: { trustDomain: td, path: spiffePath },
    parentId: { trustDomain: td, path: parentPath },
    selectors,
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
  };
}

async function create(ds: TestDataStore, ...entries: Entry[]): Promise<string[]> {
  const { results } = await ds.dataStore.createEntries({ entries });
  return results.map((r) => {
    expect(r.status?.code).toBe(0);
    return r.entry?.id ?? "";
  });
}

const ids = (list: readonly EncodedEntry[]) => list.map(entryPathOf);

describe("EntryCache on the SQL DataStore", () => {
  let ds: TestDataStore;
  beforeAll(async () => {
    ds = await startTestDataStore();
  });
  afterAll(async () => {
    await ds?.close();
  });

  it("runs the after-load hook once per load, and a failing hook fails nothing", async () => {
    await create(ds, entry("/w/hooked", "/spire/agent/join_token/hook"));
    const warnings: string[] = [];
    let calls = 0;
    const cache = new EntryCache({
      dataStore: ds.dataStore,
      trustDomain: td,
      logger: { ...quiet, warn: (msg) => warnings.push(msg) },
      afterLoad: () => {
        calls++;
        throw new Error("no can do");
      },
    });
    await cache.start();
    try {
      expect(ids(cache.authorizedEntries("spiffe://example.org/spire/agent/join_token/hook"))).toEqual(["/w/hooked"]);
      expect(calls).toBe(1);
      expect(cache.reloads).toBe(1);
      expect(warnings).toEqual(["entry cache after-load hook failed"]);
    } finally {
      await cache.stop();
    }
  });

  it("loads existing state, then follows entry and node-selector changes from the feed", async () => {
    await create(ds, entry("/w/before", "/spire/agent/join_token/t1"));
    const cache = new EntryCache({ dataStore: ds.dataStore, trustDomain: td, logger: quiet });
    await cache.start();
    try {
      expect(ids(cache.authorizedEntries(agent))).toEqual(["/w/before"]);

      const [nested] = await create(ds, entry("/w/nested", "/w/before"));
      await create(ds, entry("/cluster", "/spire/server", [{ type: "k8s_psat", value: "cluster:a" }]));
      await create(ds, entry("/w/via-alias", "/cluster"));
      await ds.dataStore.setNodeSelectors({ spiffeId: agent, selectors: [{ type: "k8s_psat", value: "cluster:a" }] });
      await cache.catchUp(5000);
      expect(ids(cache.authorizedEntries(agent))).toEqual(["/w/before", "/w/nested", "/w/via-alias"]);

      const { results } = await ds.dataStore.updateEntries({
        entries: [{ ...entry("/w/nested2", "/w/before"), id: nested as string }],
        inputMask: undefined,
      });
      expect(results[0]?.status?.code).toBe(0);
      await ds.dataStore.deleteEntries({ ids: [nested as string] });
      await ds.dataStore.setNodeSelectors({ spiffeId: agent, selectors: [] });
      await cache.catchUp(5000);
      expect(ids(cache.authorizedEntries(agent))).toEqual(["/w/before"]);
      expect(cache.reloads).toBe(1);
    } finally {
      await cache.stop();
    }
  });

  it("sees the writes of a second server on the same database within a second", async () => {
    const other = new EntryCache({ dataStore: ds.dataStore, trustDomain: td, logger: quiet });
    await other.start();
    try {
      const started = Date.now();
      await create(ds, entry("/w/seen-by-peer", "/spire/agent/join_token/t1"));
      const { eventId } = await ds.dataStore.getLatestEventId({});
      await other.waitForEventId(eventId, 1000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(ids(other.authorizedEntries(agent))).toContain("/w/seen-by-peer");
    } finally {
      await other.stop();
    }
  });

  it("reloads from scratch when the store says the cursor is unusable", async () => {
    let failNext = false;
    const flaky: EntryCacheDataStore = {
      ...ds.dataStore,
      streamEvents: (req, opts) => {
        if (failNext) {
          failNext = false;
          return (async function* () {
            throw new RpcError(Code.FAILED_PRECONDITION, "events pruned");
          })();
        }
        return ds.dataStore.streamEvents(req, opts);
      },
    };
    const cache = new EntryCache({ dataStore: flaky, trustDomain: td, logger: quiet, backoff: { initialMs: 10, maxMs: 50 } });
    failNext = true;
    await cache.start();
    try {
      await create(ds, entry("/w/after-reload", "/spire/agent/join_token/t1"));
      await cache.catchUp(5000);
      expect(cache.reloads).toBe(2);
      expect(ids(cache.authorizedEntries(agent))).toContain("/w/after-reload");
    } finally {
      await cache.stop();
    }
  });

  it("retries with backoff while the store is unavailable, and stop() ends a waiting start()", async () => {
    let calls = 0;
    const down: EntryCacheDataStore = {
      ...ds.dataStore,
      getLatestEventId: async () => {
        calls++;
        throw new RpcError(Code.UNAVAILABLE, "database unreachable");
      },
    };
    const delays: number[] = [];
    const cache = new EntryCache({
      dataStore: down,
      trustDomain: td,
      logger: quiet,
      backoff: { initialMs: 100, maxMs: 400 },
      sleep: async (ms) => {
        delays.push(ms);
        await new Promise((r) => setTimeout(r, 1));
      },
    });
    const started = cache.start();
    while (delays.length < 5) await new Promise((r) => setTimeout(r, 5));
    await cache.stop();
    await expect(started).rejects.toThrow("entry cache stopped");
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 400, 400]);
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(cache.ready).toBe(false);
  });
});
