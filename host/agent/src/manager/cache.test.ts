import { generateKeyPairSync } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { AgentCache, type Subscription } from "./cache.js";
import type { X509SvidRecord } from "./x509-svid.js";

const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const keyDer = key.export({ type: "pkcs8", format: "der" });

function record(entry: Entry, serial = 1): X509SvidRecord {
  return {
    entryId: entry.id,
    spiffeId: `spiffe://${entry.spiffeId!.trustDomain}${entry.spiffeId!.path}`,
    revision: entry.revisionNumber,
    chain: [Buffer.from([serial])],
    keyDer,
    validity: { notBefore: 0, notAfter: 3_600_000 },
    rotateAt: 1_800_000,
  };
}

function bundle(td: string, authority: number, sequenceNumber = 1n): Bundle {
  return {
    trustDomain: td,
    x509Authorities: [{ asn1: Buffer.from([authority]), tainted: false }],
    jwtAuthorities: [],
    refreshHint: 0n,
    sequenceNumber,
    witAuthorities: [],
  };
}

/** Whether `sub` is woken before the current turn of the event loop ends. */
function watch(sub: Subscription): { readonly woken: boolean; stop(): void } {
  const ac = new AbortController();
  const state = { woken: false };
  void sub.changed(ac.signal).then(() => {
    if (!ac.signal.aborted) state.woken = true;
  });
  return {
    get woken() {
      return state.woken;
    },
    stop: () => ac.abort(),
  };
}
const settle = () => new Promise((r) => setImmediate(r));
const ids = (sub: Subscription) => sub.current().identities.map((i) => i.entry.id);

describe("AgentCache matching", () => {
  const a = workloadEntry(1, { selectors: ["unix:uid:1000", "unix:gid:1000"] });
  const b = workloadEntry(2, { selectors: ["unix:uid:1000"] });
  const c = workloadEntry(3, { selectors: ["unix:uid:2000"] });
  const d = workloadEntry(4, { selectors: ["unix:gid:1000", "unix:user:app"] });

  it("matches an entry when all its selectors are among the workload's", () => {
    const cache = new AgentCache();
    cache.setEntries([d, c, b, a]);
    const match = (...s: string[]) => cache.matchingEntries(selectors(...s)).map((e) => e.id);
    expect(match("unix:uid:1000", "unix:gid:1000")).toEqual([a.id, b.id]);
    expect(match("unix:uid:1000")).toEqual([b.id]);
    expect(match("unix:gid:1000")).toEqual([]);
    expect(match("unix:gid:1000", "unix:user:app", "unix:uid:1000", "unix:uid:2000")).toEqual([a.id, b.id, c.id, d.id]);
    expect(match("unix:uid:3000")).toEqual([]);
    expect(match()).toEqual([]);
  });

  it("gives a subscriber the identities of its matching entries that have SVIDs, in entry id order", () => {
    const cache = new AgentCache();
    cache.setEntries([c, b, a]);
    cache.putSvids([record(a), record(b), record(c)]);
    const sub = cache.subscribe(selectors("unix:uid:1000", "unix:gid:1000"));
    expect(ids(sub)).toEqual([a.id, b.id]);
    expect(sub.current().identities[0]?.svid).toBe(cache.svidOf(a.id));
  });
});

describe("AgentCache subscriptions", () => {
  const mine = workloadEntry(1, { selectors: ["unix:uid:1000"] });
  const other = workloadEntry(2, { selectors: ["unix:uid:2000"] });

  it("wakes a subscriber when an SVID it sees is put, and not for others' SVIDs", async () => {
    const cache = new AgentCache();
    cache.setEntries([mine, other]);
    const sub = cache.subscribe(selectors("unix:uid:1000"));
    let w = watch(sub);
    cache.putSvids([record(other)]);
    await settle();
    expect(w.woken).toBe(false);
    cache.putSvids([record(mine)]);
    await settle();
    expect(w.woken).toBe(true);
    expect(ids(sub)).toEqual([mine.id]);

    // A rotation (a new record for the same entry) wakes it again.
    w = watch(sub);
    const rotated = record(mine, 2);
    cache.putSvids([rotated]);
    await settle();
    expect(w.woken).toBe(true);
    expect(sub.current().identities[0]?.svid).toBe(rotated);
    w.stop();
  });

  it("ignores SVIDs for entries it does not hold", () => {
    const cache = new AgentCache();
    cache.setEntries([mine]);
    cache.putSvids([record(other)]);
    expect(cache.svidCount).toBe(0);
  });

  it("wakes every subscriber on a bundle change, not on an equal bundle", async () => {
    const cache = new AgentCache();
    cache.setEntries([mine, other]);
    cache.putSvids([record(mine)]);
    const s1 = cache.subscribe(selectors("unix:uid:1000"));
    const s2 = cache.subscribe(selectors("unix:uid:9999"));
    cache.setBundles(bundle("example.org", 1), new Map());
    let w1 = watch(s1);
    let w2 = watch(s2);
    // Same content, new objects (every GetBundle decodes afresh).
    cache.setBundles(bundle("example.org", 1), new Map());
    await settle();
    expect([w1.woken, w2.woken]).toEqual([false, false]);
    cache.setBundles(bundle("example.org", 2, 2n), new Map());
    await settle();
    expect([w1.woken, w2.woken]).toEqual([true, true]);
    expect(s1.current().bundle?.x509Authorities[0]?.asn1).toEqual(Buffer.from([2]));

    w1 = watch(s1);
    w2 = watch(s2);
    cache.setBundles(bundle("example.org", 2, 2n), new Map([["fed.test", bundle("fed.test", 9)]]));
    await settle();
    expect([w1.woken, w2.woken]).toEqual([true, true]);
  });

  it("gives each subscriber only the federated bundles its identities federate with", () => {
    const cache = new AgentCache();
    const fed = workloadEntry(3, { selectors: ["unix:uid:3000"], federatesWith: ["spiffe://fed.test"] });
    cache.setEntries([mine, fed]);
    cache.putSvids([record(mine), record(fed)]);
    cache.setBundles(bundle("example.org", 1), new Map([["fed.test", bundle("fed.test", 7)], ["other.test", bundle("other.test", 8)]]));
    expect([...cache.subscribe(selectors("unix:uid:1000")).current().federatedBundles.keys()]).toEqual([]);
    expect([...cache.subscribe(selectors("unix:uid:3000")).current().federatedBundles.keys()]).toEqual(["fed.test"]);
  });

  it("wakes a subscriber when its entry is removed, and drops the entry's SVID", async () => {
    const cache = new AgentCache();
    cache.setEntries([mine, other]);
    cache.putSvids([record(mine), record(other)]);
    const sub = cache.subscribe(selectors("unix:uid:1000"));
    const w = watch(sub);
    cache.setEntries([other]);
    await settle();
    expect(w.woken).toBe(true);
    expect(sub.current().identities).toEqual([]);
    expect(sub.current().pending).toBe(0);
    expect(cache.svidOf(mine.id)).toBeUndefined();
    expect(cache.svidOf(other.id)).toBeDefined();
  });

  it("wakes a subscriber when an entry it matches appears", async () => {
    const cache = new AgentCache();
    cache.setEntries([other]);
    const sub = cache.subscribe(selectors("unix:uid:1000"));
    expect(sub.current().pending).toBe(0);
    const w = watch(sub);
    cache.setEntries([other, mine]);
    await settle();
    expect(w.woken).toBe(true);
    expect(sub.current().pending).toBe(1);
  });

  it("resolves changed() on abort and on unsubscribe", async () => {
    const cache = new AgentCache();
    cache.setEntries([mine]);
    const sub = cache.subscribe(selectors("unix:uid:1000"));
    const ac = new AbortController();
    const aborted = sub.changed(ac.signal);
    ac.abort();
    await aborted;
    const pending = sub.changed(new AbortController().signal);
    sub.unsubscribe();
    await pending;
    expect(cache.subscriberCount).toBe(0);
  });

  it("counts matching entries without an SVID as pending", () => {
    const cache = new AgentCache();
    const second = workloadEntry(5, { selectors: ["unix:uid:1000", "unix:gid:5"] });
    cache.setEntries([mine, second, other]);
    const sub = cache.subscribe(selectors("unix:uid:1000", "unix:gid:5"));
    expect(sub.current()).toMatchObject({ identities: [], pending: 2 });
    cache.putSvids([record(second)]);
    expect(sub.current().pending).toBe(1);
    expect(ids(sub)).toEqual([second.id]);
    cache.putSvids([record(mine)]);
    expect(sub.current().pending).toBe(0);
    expect(ids(sub)).toEqual([mine.id, second.id]);
  });
});

describe("AgentCache hints", () => {
  it("keeps one identity per non-empty hint: the oldest entry, then the lowest id", () => {
    const cache = new AgentCache();
    const newer = workloadEntry(1, { selectors: ["unix:uid:1"], hint: "db", createdAt: 200n });
    const older = workloadEntry(2, { selectors: ["unix:uid:1"], hint: "db", createdAt: 100n });
    const tieLow = workloadEntry(3, { selectors: ["unix:uid:1"], hint: "web", createdAt: 50n });
    const tieHigh = workloadEntry(4, { selectors: ["unix:uid:1"], hint: "web", createdAt: 50n });
    const plain1 = workloadEntry(5, { selectors: ["unix:uid:1"] });
    const plain2 = workloadEntry(6, { selectors: ["unix:uid:1"] });
    const all = [newer, older, tieLow, tieHigh, plain1, plain2];
    cache.setEntries(all);
    cache.putSvids(all.map((e) => record(e)));
    expect(ids(cache.subscribe(selectors("unix:uid:1")))).toEqual([older.id, tieLow.id, plain1.id, plain2.id]);
  });
});

describe("AgentCache eviction", () => {
  it("drops least recently used SVIDs beyond the limit and never one a subscriber sees", async () => {
    const cache = new AgentCache();
    const [e1, e2, e3, e4] = [1, 2, 3, 4].map((n) => workloadEntry(n));
    cache.setEntries([e1!, e2!, e3!, e4!]);
    cache.putSvids([record(e1!), record(e2!), record(e3!), record(e4!)]);

    // e4 used long ago, then e2 used; e3 and e1 never; e1 stays subscribed.
    const use = (e: Entry) => {
      const s = cache.subscribe(selectors(`unix:uid:${e.selectors[0]!.value.slice(4)}`));
      expect(s.current().identities).toHaveLength(1);
      s.unsubscribe();
    };
    use(e4!);
    await new Promise((r) => setTimeout(r, 5));
    use(e2!);
    const held = cache.subscribe(selectors("unix:uid:1"));

    cache.evict(3);
    expect([...cache.allSvids()].map((s) => s.entryId).sort()).toEqual([e1!.id, e2!.id, e4!.id]);
    cache.evict(2);
    expect([...cache.allSvids()].map((s) => s.entryId).sort()).toEqual([e1!.id, e2!.id]);
    // The subscribed entry survives even a limit of 0.
    cache.evict(0);
    expect([...cache.allSvids()].map((s) => s.entryId)).toEqual([e1!.id]);
    expect(held.current().identities).toHaveLength(1);
    cache.evict(5);
    expect(cache.svidCount).toBe(1);
  });
});

describe("AgentCache wanted entries", () => {
  const a = workloadEntry(1, { selectors: ["unix:uid:1"] });
  const b = workloadEntry(2, { selectors: ["unix:uid:1", "unix:gid:2"] });

  it("tells the listener once when a subscriber needs SVIDs the cache lacks", () => {
    const cache = new AgentCache();
    let calls = 0;
    cache.setWantedListener(() => calls++);
    cache.setEntries([a, b]);
    cache.putSvids([record(b)]);
    cache.subscribe(selectors("unix:uid:1", "unix:gid:2"));
    expect(calls).toBe(1);
    // Already wanted: a second subscriber does not call again.
    cache.subscribe(selectors("unix:uid:1"));
    expect(calls).toBe(1);
    expect(cache.takeWanted()).toEqual([a.id]);
    expect(cache.takeWanted()).toEqual([]);
    // Taken but still missing: a new subscriber wants it again.
    cache.subscribe(selectors("unix:uid:1"));
    expect(calls).toBe(2);
  });

  it("does not call for subscribers whose entries all have SVIDs, and forgets wanted ids that got one", () => {
    const cache = new AgentCache();
    let calls = 0;
    cache.setWantedListener(() => calls++);
    cache.setEntries([a, b]);
    cache.putSvids([record(a)]);
    cache.subscribe(selectors("unix:uid:1"));
    expect(calls).toBe(0);
    cache.subscribe(selectors("unix:uid:1", "unix:gid:2"));
    expect(calls).toBe(1);
    cache.putSvids([record(b)]);
    expect(cache.takeWanted()).toEqual([]);
  });

  it("wants an entry that appears for an existing subscriber", () => {
    const cache = new AgentCache();
    let calls = 0;
    cache.setWantedListener(() => calls++);
    cache.subscribe(selectors("unix:uid:1"));
    expect(calls).toBe(0);
    cache.setEntries([a]);
    expect(calls).toBe(1);
    expect(cache.takeWanted()).toEqual([a.id]);
    expect(cache.subscribedEntries()).toEqual(new Set([a.id]));
  });
});

describe("AgentCache.setEntries with the cached objects handed back", () => {
  const a = workloadEntry(1, { selectors: ["unix:uid:1"] });
  const b = workloadEntry(2, { selectors: ["unix:uid:1"] });
  const c = workloadEntry(3, { selectors: ["unix:uid:2"] });

  it("is a no-op for the same objects in the same order: same map, nobody woken, SVIDs kept", async () => {
    const cache = new AgentCache();
    cache.setEntries([a, b, c]);
    cache.putSvids([record(a), record(b)]);
    const map = cache.entryMap;
    const sub = cache.subscribe(selectors("unix:uid:1"));
    const w = watch(sub);
    cache.setEntries([a, b, c]);
    await settle();
    expect(w.woken).toBe(false);
    expect(cache.entryMap).toBe(map);
    expect(cache.svidCount).toBe(2);
    w.stop();
  });

  it("sees the same objects in another order as no change, too", async () => {
    const cache = new AgentCache();
    cache.setEntries([a, b, c]);
    const sub = cache.subscribe(selectors("unix:uid:1"));
    const w = watch(sub);
    cache.setEntries([c, a, b]);
    await settle();
    expect(w.woken).toBe(false);
    expect([...cache.entryMap.keys()].sort()).toEqual([a.id, b.id, c.id].sort());
    w.stop();
  });

  it("notices an entry listed twice in place of another (same count, one entry gone)", () => {
    const cache = new AgentCache();
    cache.setEntries([a, b]);
    cache.putSvids([record(a), record(b)]);
    cache.setEntries([a, a]);
    expect([...cache.entryMap.keys()]).toEqual([a.id]);
    expect(cache.svidOf(b.id)).toBeUndefined();
  });

  it("notices a changed entry at the same place (a new object with a new revision)", () => {
    const cache = new AgentCache();
    cache.setEntries([a, b]);
    const b2: Entry = { ...b, revisionNumber: b.revisionNumber + 1n, selectors: [{ type: "unix", value: "uid:2" }] };
    cache.setEntries([a, b2]);
    expect(cache.entryMap.get(b.id)).toBe(b2);
    cache.subscribe(selectors("unix:uid:2"));
    expect(cache.subscribedEntries()).toEqual(new Set([b.id]));
  });
});
