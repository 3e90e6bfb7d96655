import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { describe, expect, it } from "vitest";
import { InMemoryAuthorizedEntries } from "../../../../test/fakes/authorized-entries.js";
import { decodeEntry, type EncodedEntry, entryIdOf } from "./encoded-entry.js";
import { EntryIndex, pathHash, serverPath } from "./entry-index.js";

/**
 * EntryIndex against a naive reference of SPIRE's cache
 * (pkg/server/authorizedentries): entries in a Map, the crawl a plain
 * recursive scan of every entry per parent. Seeded random operations over a
 * small universe of ids, paths and selectors, so that replacements, parent
 * moves, aliases turning into workloads and back, cycles, path-hash
 * collisions, slot reuse, empty and long ids and non-ASCII text all happen
 * often. The index keeps each parent's children in insertion order and
 * orders aliases by entry id; the reference does the same, so crawl order is
 * compared exactly.
 */

const td = "example.org";
const otherTd = "other.org";

class ReferenceIndex {
  /** Insertion order = the index's child order (a replaced entry goes last). */
  readonly entries = new Map<string, Entry>();
  readonly agents = new Map<string, readonly Selector[]>();

  put(entry: Entry): void {
    this.entries.delete(entry.id);
    if (entry.spiffeId?.trustDomain !== td || entry.parentId?.trustDomain !== td) return;
    this.entries.set(entry.id, entry);
  }

  remove(id: string): void {
    this.entries.delete(id);
  }

  setAgent(agentId: string, selectors: readonly Selector[]): void {
    if (selectors.length === 0) this.agents.delete(agentId);
    else this.agents.set(agentId, selectors);
  }

  authorized(agentId: string): Entry[] {
    const prefix = `spiffe://${td}`;
    if (!agentId.startsWith(prefix)) return [];
    const agentPath = agentId.slice(prefix.length);
    if (agentPath !== "" && !agentPath.startsWith("/")) return [];
    const out: Entry[] = [];
    const seen = new Set<string>();
    const crawl = (parentPath: string) => {
      if (seen.has(parentPath)) return;
      seen.add(parentPath);
      for (const e of this.entries.values()) {
        if (e.parentId?.path !== parentPath || parentPath === serverPath) continue;
        out.push(e);
        crawl(e.spiffeId?.path ?? "");
      }
    };
    crawl(agentPath);
    const mine = this.agents.get(agentId) ?? [];
    const has = (s: Selector) => mine.some((m) => m.type === s.type && m.value === s.value);
    const aliases = [...this.entries.values()]
      .filter((e) => e.parentId?.path === serverPath && e.selectors.length > 0 && e.selectors.every(has))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const alias of aliases) crawl(alias.spiffeId?.path ?? "");
    return out;
  }

  isAdmin(spiffeId: string): boolean {
    return [...this.entries.values()].some((e) => e.admin && `spiffe://${td}${e.spiffeId?.path}` === spiffeId);
  }

  isDownstream(spiffeId: string): boolean {
    return [...this.entries.values()].some((e) => e.downstream && `spiffe://${td}${e.spiffeId?.path}` === spiffeId);
  }
}

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Two paths whose 32-bit hashes collide (entry-index.test.ts).
const collidingA = "/w/1039599";
const collidingB = "/w/1222382";

const agentPaths = ["/spire/agent/a", "/spire/agent/b", "/spire/agent/é"];
const workloadPaths = ["/w/1", "/w/2", "/w/3", "/w/ü", "/w/日本", "", collidingA, collidingB, "/spire/agent/a", serverPath];
const aliasPaths = ["/cluster/x", "/cluster/y", collidingA];
const selectorPool: Selector[] = [
  { type: "k", value: "v" },
  { type: "k", value: "w" },
  { type: "a:b", value: "c" },
  { type: "a", value: "b:c" },
  { type: "unix", value: "user:jürgen" },
  { type: "x509pop", value: "subject:cn:ñ" },
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function someSelectors(rand: () => number, max: number): Selector[] {
  const n = Math.floor(rand() * (max + 1));
  return Array.from({ length: n }, () => pick(rand, selectorPool));
}

function makeEntry(rand: () => number, id: string): Entry {
  const alias = rand() < 0.15;
  const parentPath = alias ? serverPath : pick(rand, [...agentPaths, ...workloadPaths]);
  const path = alias ? pick(rand, aliasPaths) : pick(rand, workloadPaths);
  const foreign = rand() < 0.05;
  return {
    id,
    spiffeId: { trustDomain: foreign && rand() < 0.5 ? otherTd : td, path },
    parentId: { trustDomain: foreign ? otherTd : td, path: parentPath },
    selectors: alias ? someSelectors(rand, 2) : [{ type: "unix", value: `uid:${Math.floor(rand() * 3)}` }],
    x509SvidTtl: Math.floor(rand() * 3) * 60,
    federatesWith: rand() < 0.2 ? ["fed.org"] : [],
    admin: rand() < 0.2,
    downstream: rand() < 0.2,
    expiresAt: BigInt(Math.floor(rand() * 5)) - 2n,
    dnsNames: rand() < 0.2 ? ["dns.example", "ü.example"] : [],
    revisionNumber: BigInt(Math.floor(rand() * 1000)),
    storeSvid: rand() < 0.1,
    jwtSvidTtl: 0,
    hint: rand() < 0.2 ? "hïnt" : "",
    createdAt: 1_700_000_000n,
    ...(rand() < 0.1 ? { additionalAttributes: { disableX509SvidPrefetch: rand() < 0.5, jwtSvidIncludeJti: false } } : {}),
  };
}

function idPool(size: number): string[] {
  const ids = ["", "é", "日本-1", "x".repeat(127), "x".repeat(128), "y".repeat(300), "a", "ab"];
  for (let i = 0; ids.length < size; i++) ids.push(`id-${i}`);
  return ids;
}

const agentIds = [
  ...agentPaths.map((p) => `spiffe://${td}${p}`),
  `spiffe://${td}`,
  `spiffe://${td}/w/1`,
  `spiffe://${td}${serverPath}`,
  `spiffe://${otherTd}/spire/agent/a`,
  `spiffe://${td}x/spire/agent/a`,
];

function check(index: EntryIndex, ref: ReferenceIndex, rand: () => number, ids: readonly string[], agentId: string, step: number): void {
  const expected = ref.authorized(agentId);
  const got = index.authorizedEntries(agentId);
  const where = `step ${step}, agent ${agentId}`;
  expect(got.map(entryIdOf), where).toEqual(expected.map((e) => e.id));
  expect(got.map(decodeEntry), where).toEqual(expected);
  // authorizedEntry (memoized per agent) for a few ids, reachable or not.
  for (let k = 0; k < 4; k++) {
    const id = k === 0 && expected.length > 0 ? pick(rand, expected).id : pick(rand, ids);
    expect(index.authorizedEntry(agentId, id), `${where}, entry ${JSON.stringify(id)}`).toEqual(expected.find((e) => e.id === id));
  }
}

function run(seed: number, steps: number, poolSize: number, checkEvery = 1): void {
  const rand = prng(seed);
  const ids = idPool(poolSize);
  const index = new EntryIndex(td);
  const ref = new ReferenceIndex();
  const snapshots: { readonly list: readonly EncodedEntry[]; readonly expected: Entry[] }[] = [];
  for (let step = 0; step < steps; step++) {
    const r = rand();
    if (r < 0.6) {
      const entry = makeEntry(rand, pick(rand, ids));
      index.putEntry(entry);
      ref.put(entry);
    } else if (r < 0.8) {
      const id = pick(rand, ids);
      index.removeEntry(id);
      ref.remove(id);
    } else {
      const agent = pick(rand, agentIds);
      const selectors = someSelectors(rand, 4);
      index.setAgentSelectors(agent, selectors);
      ref.setAgent(agent, selectors);
    }
    if (step % checkEvery === 0) check(index, ref, rand, ids, pick(rand, agentIds), step);
    if (step % 97 === 0) {
      const agent = pick(rand, agentIds);
      snapshots.push({ list: index.authorizedEntries(agent), expected: ref.authorized(agent) });
    }
    if (step % (50 * checkEvery) === 0) {
      expect(index.entryCount, `step ${step}`).toBe(ref.entries.size);
      for (const agent of agentIds) check(index, ref, rand, ids, agent, step);
      // The API tests' fake (test/fakes/authorized-entries.ts) must authorize the same
      // sets (its alias order is list order, not id order, so compared sorted).
      const fake = new InMemoryAuthorizedEntries(td);
      fake.setEntries([...ref.entries.values()]);
      for (const [agent, selectors] of ref.agents) fake.setNodeSelectors(agent, selectors);
      for (const agent of agentIds) {
        expect(fake.authorizedEntries(agent).map(entryIdOf).sort(), `fake, step ${step}, ${agent}`).toEqual(
          index.authorizedEntries(agent).map(entryIdOf).sort(),
        );
      }
      for (const path of [...agentPaths, ...workloadPaths, ...aliasPaths]) {
        const id = `spiffe://${td}${path}`;
        expect(index.isAdmin(id), `${id} admin`).toBe(ref.isAdmin(id));
        expect(index.isDownstream(id), `${id} downstream`).toBe(ref.isDownstream(id));
      }
    }
  }
  // Snapshots handed out long ago still hold exactly what they held then.
  for (const s of snapshots) expect(s.list.map(decodeEntry)).toEqual(s.expected);
  expect(index.allEntries().length).toBe(ref.entries.size);
}

describe("EntryIndex against a naive reference crawl", () => {
  it("the colliding paths used here really collide", () => {
    expect(pathHash(collidingA)).toBe(pathHash(collidingB));
  });

  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`agrees over 2500 random operations on a small universe (seed ${seed})`, () => {
      run(seed, 2500, 24);
    });
  }

  it("agrees over churn on thousands of distinct ids (id-table growth, tombstones, slot reuse)", () => {
    run(99, 8000, 3000, 40);
  });
});
