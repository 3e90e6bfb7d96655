import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { type Children, childrenOf, withChild, withoutChild } from "./children.js";
import { decodeEntry, type EncodedEntry, encodeEntry, entryParentPathOf, entryPathOf } from "./encoded-entry.js";
import { fnv1a } from "./fnv1a.js";
import { IdTable } from "./id-table.js";
import { packSelectors, selectorKey, unpackSelectors } from "./selector-set.js";

/** How many agents' authorized slot sets authorizedEntry remembers. */
const memoAgents = 8;

/** Path of the server's own ID; entries parented by it are node aliases. */
export const serverPath = "/spire/server";

interface AliasRecord {
  readonly id: string;
  readonly path: string;
  readonly encoded: EncodedEntry;
  /** The alias's distinct selectors, as keys (selector-set.ts). */
  readonly selectorKeys: readonly string[];
}

/**
 * The authorized-entries index (SPIRE's pkg/server/authorizedentries cache):
 * entries by parent path, node aliases by selector, agents' node selectors.
 * Pure and synchronous; the change-feed consumer feeds it.
 *
 * Only entries whose SPIFFE ID and parent ID are both in the server's trust
 * domain are kept, so everything is keyed by path.
 *
 * Memory is the design constraint (a server holds every entry): an entry is
 * its wire encoding in a string (EncodedEntry) at a numbered slot, plus a
 * hash of its SPIFFE ID path, plus its slot in `slotsById` (a table of
 * numbers) and in its parent's child list. No Entry objects, id strings,
 * selector objects or path strings are kept for workload entries: the crawl
 * finds an entry's own children through the path hash and reads the path
 * from the bytes only when that hash is a known parent's.
 */
export class EntryIndex {
  /** slot → the entry (undefined: a free slot). */
  private readonly encoded: (EncodedEntry | undefined)[] = [];
  /** slot → hash of the entry's SPIFFE ID path. */
  private pathHashes = new Int32Array(1024);
  private readonly freeSlots: number[] = [];
  private readonly slotsById = new IdTable((slot) => this.encoded[slot] as EncodedEntry);
  /** parent path → slots of the entries parented by it, in insertion order (crawl order). */
  private readonly byParent = new Map<string, Children>();
  /** path hash → the paths in byParent with that hash. */
  private readonly parentsByHash = new Map<number, string | string[]>();
  private readonly aliases = new Map<string, AliasRecord>();
  /** selector key → aliases having that selector. */
  private readonly aliasesBySelector = new Map<string, Set<AliasRecord>>();
  /** agent SPIFFE ID → its node selectors, packed (selector-set.ts). */
  private readonly agentSelectors = new Map<string, string>();
  /** spiffe path → number of entries with that ID and admin / downstream set. */
  private readonly admins = new Map<string, number>();
  private readonly downstreams = new Map<string, number>();

  /** Bumped on every change; invalidates remembered answers. */
  private version = 0;
  private readonly memo = new Map<string, { readonly version: number; readonly slots: ReadonlySet<number> }>();

  constructor(readonly trustDomain: string) {}

  get entryCount(): number {
    return this.slotsById.size + this.aliases.size;
  }

  get agentCount(): number {
    return this.agentSelectors.size;
  }

  /** Adds or replaces an entry; entries outside the trust domain are dropped (and any old copy removed). */
  putEntry(entry: Entry): void {
    this.version++;
    this.removeEntry(entry.id);
    if (entry.spiffeId?.trustDomain !== this.trustDomain || entry.parentId?.trustDomain !== this.trustDomain) return;
    const encoded = encodeEntry(entry);
    // Every key is taken from the stored bytes, as removal and the crawl read
    // them back: a string that is not well-formed UTF-16 (a lone surrogate)
    // encodes as U+FFFD, and keys from the Entry object would then never be
    // found again (stale child lists, a freed slot reused under the wrong parent).
    const path = entryPathOf(encoded);
    const parentPath = entryParentPathOf(encoded);
    if (parentPath === serverPath) this.addAlias(entry, encoded, path);
    else {
      const slot = this.freeSlots.pop() ?? this.encoded.length;
      this.encoded[slot] = encoded;
      if (slot >= this.pathHashes.length) {
        const grown = new Int32Array(this.pathHashes.length * 2);
        grown.set(this.pathHashes);
        this.pathHashes = grown;
      }
      this.pathHashes[slot] = pathHash(path);
      this.slotsById.set(entry.id, slot);
      this.addToParent(parentPath, slot);
    }
    if (entry.admin) bump(this.admins, path, 1);
    if (entry.downstream) bump(this.downstreams, path, 1);
  }

  removeEntry(id: string): void {
    this.version++;
    const slot = this.slotsById.get(id);
    if (slot !== undefined) {
      const entry = decodeEntry(this.encoded[slot] as EncodedEntry);
      this.slotsById.delete(id);
      this.encoded[slot] = undefined;
      this.freeSlots.push(slot);
      this.removeFromParent(entry.parentId?.path ?? "", slot);
      this.forget(entry);
      return;
    }
    const alias = this.aliases.get(asStored(id));
    if (!alias) return;
    this.aliases.delete(alias.id);
    for (const key of alias.selectorKeys) {
      const set = this.aliasesBySelector.get(key);
      if (!set) continue;
      set.delete(alias);
      if (set.size === 0) this.aliasesBySelector.delete(key);
    }
    this.forget(decodeEntry(alias.encoded));
  }

  /** Replaces an agent's node selectors; an empty list forgets the agent. */
  setAgentSelectors(agentId: string, selectors: readonly Selector[]): void {
    this.version++;
    if (selectors.length === 0) this.agentSelectors.delete(agentId);
    else this.agentSelectors.set(agentId, packSelectors(selectors));
  }

  /**
   * SPIRE's crawl: entries parented by the agent, each followed depth-first by
   * the entries parented by its SPIFFE ID, then the same from every node alias
   * the agent belongs to. A parent path is crawled once. The stored strings
   * themselves, in a fresh array: a snapshot later changes cannot touch.
   */
  authorizedEntries(agentId: string): EncodedEntry[] {
    const out: EncodedEntry[] = [];
    this.crawlAgent(agentId, (slot) => out.push(this.encoded[slot] as EncodedEntry));
    return out;
  }

  /**
   * One entry if the agent may obtain it, decoded. Callers ask for many
   * entries of one agent in a row (a BatchNewX509SVID of 500 CSRs), so the
   * agent's authorized slot set is remembered until the index next changes,
   * for the last few agents asked about.
   */
  authorizedEntry(agentId: string, entryId: string): Entry | undefined {
    const slot = this.slotsById.get(entryId);
    if (slot === undefined) return undefined;
    let memo = this.memo.get(agentId);
    if (!memo || memo.version !== this.version) {
      const slots = new Set<number>();
      this.crawlAgent(agentId, (s) => slots.add(s));
      memo = { version: this.version, slots };
      this.memo.delete(agentId);
      this.memo.set(agentId, memo);
      if (this.memo.size > memoAgents) this.memo.delete(this.memo.keys().next().value as string);
    }
    return memo.slots.has(slot) ? decodeEntry(this.encoded[slot] as EncodedEntry) : undefined;
  }

  isAdmin(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.admins.get(path) ?? 0) > 0;
  }

  isDownstream(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.downstreams.get(path) ?? 0) > 0;
  }

  /** Every entry, decoded (tests, debugging). */
  allEntries(): Entry[] {
    const out: Entry[] = [];
    for (const encoded of this.encoded) if (encoded !== undefined) out.push(decodeEntry(encoded));
    for (const alias of this.aliases.values()) out.push(decodeEntry(alias.encoded));
    return out;
  }

  private crawlAgent(agentId: string, visit: (slot: number) => void): void {
    const agentPath = this.pathInTrustDomain(agentId);
    if (agentPath === undefined) return;
    const seen = new Set<string>();
    this.crawl(agentPath, seen, visit);
    for (const alias of this.aliasesOf(agentId)) this.crawl(alias.path, seen, visit);
  }

  /**
   * Depth-first, pre-order, iterative (a long chain of nested entries must
   * not overflow the stack). Only paths that parent something are recorded
   * as seen: crawling a childless path again would add nothing, and most
   * entries are leaves, so the set stays small.
   */
  private crawl(root: string, seen: Set<string>, visit: (slot: number) => void): void {
    if (seen.has(root)) return;
    const first = this.byParent.get(root);
    if (first === undefined) return;
    seen.add(root);
    const stack: Iterator<number>[] = [childrenOf(first)];
    while (stack.length > 0) {
      const step = (stack[stack.length - 1] as Iterator<number>).next();
      if (step.done) {
        stack.pop();
        continue;
      }
      const slot = step.value;
      visit(slot);
      // Read the child's path only when some parent path shares its hash.
      if (!this.parentsByHash.has(this.pathHashes[slot] as number)) continue;
      const childPath = entryPathOf(this.encoded[slot] as EncodedEntry);
      const grandChildren = this.byParent.get(childPath);
      if (grandChildren === undefined || seen.has(childPath)) continue;
      seen.add(childPath);
      stack.push(childrenOf(grandChildren));
    }
  }

  private addToParent(parentPath: string, slot: number): void {
    const siblings = this.byParent.get(parentPath);
    const updated = withChild(siblings, slot);
    if (updated !== siblings) this.byParent.set(parentPath, updated);
    if (siblings !== undefined) return;
    const hash = pathHash(parentPath);
    const known = this.parentsByHash.get(hash);
    if (known === undefined) this.parentsByHash.set(hash, parentPath);
    else this.parentsByHash.set(hash, typeof known === "string" ? [known, parentPath] : [...known, parentPath]);
  }

  private removeFromParent(parentPath: string, slot: number): void {
    const siblings = this.byParent.get(parentPath);
    if (siblings === undefined) return;
    const remaining = withoutChild(siblings, slot);
    if (remaining !== undefined) {
      if (remaining !== siblings) this.byParent.set(parentPath, remaining);
      return;
    }
    this.byParent.delete(parentPath);
    const hash = pathHash(parentPath);
    const known = this.parentsByHash.get(hash);
    if (known === undefined) return;
    const rest = typeof known === "string" ? [] : known.filter((p) => p !== parentPath);
    if (rest.length === 0) this.parentsByHash.delete(hash);
    else this.parentsByHash.set(hash, rest.length === 1 ? (rest[0] as string) : rest);
  }

  /** Aliases whose selectors are all among the agent's node selectors, ordered by entry id. */
  private aliasesOf(agentId: string): AliasRecord[] {
    const packed = this.agentSelectors.get(agentId);
    if (packed === undefined || this.aliases.size === 0) return [];
    const agent = unpackSelectors(packed);
    const found = new Set<AliasRecord>();
    for (const key of agent) {
      const candidates = this.aliasesBySelector.get(key);
      if (!candidates) continue;
      for (const alias of candidates) {
        if (found.has(alias)) continue;
        if (alias.selectorKeys.every((k) => agent.has(k))) found.add(alias);
      }
    }
    return [...found].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private addAlias(entry: Entry, encoded: EncodedEntry, path: string): void {
    const alias: AliasRecord = {
      id: asStored(entry.id),
      path,
      encoded,
      selectorKeys: [...new Set(entry.selectors.map(selectorKey))],
    };
    this.aliases.set(alias.id, alias);
    for (const key of alias.selectorKeys) {
      let set = this.aliasesBySelector.get(key);
      if (!set) {
        set = new Set();
        this.aliasesBySelector.set(key, set);
      }
      set.add(alias);
    }
  }

  private forget(entry: Entry): void {
    const path = entry.spiffeId?.path ?? "";
    if (entry.admin) bump(this.admins, path, -1);
    if (entry.downstream) bump(this.downstreams, path, -1);
  }

  /** The path of a SPIFFE ID URI in our trust domain, or undefined for anything else. */
  private pathInTrustDomain(id: string): string | undefined {
    const prefix = `spiffe://${this.trustDomain}`;
    if (!id.startsWith(prefix)) return undefined;
    const path = id.slice(prefix.length);
    if (path !== "" && path[0] !== "/") return undefined;
    return asStored(path);
  }
}

/** The hash kept per slot of the entry's SPIFFE ID path. */
export const pathHash = fnv1a;

/**
 * A string as it reads back from an encoded entry: unchanged when it is
 * well-formed UTF-16 (always, for strings decoded from protobuf or SQL),
 * lone surrogates replaced by U+FFFD otherwise.
 */
function asStored(s: string): string {
  return /[\uD800-\uDFFF]/.test(s) ? Buffer.from(s, "utf8").toString("utf8") : s;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
