import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import { addChild, type Children, childrenOf, removeChild } from "./children.js";
import { Interner, type StoredEntry, sharedSelectors, storedEntry } from "./stored-entry.js";

/** How many agents' authorized id sets authorizedEntry remembers. */
const memoAgents = 8;

/** Path of the server's own ID; entries parented by it are node aliases. */
export const serverPath = "/spire/server";

interface AliasRecord {
  readonly entry: StoredEntry;
  /** The alias's distinct selectors (shared objects, compared by identity). */
  readonly selectors: readonly Selector[];
}

/**
 * The authorized-entries index (SPIRE's pkg/server/authorizedentries cache):
 * entries by parent path, node aliases by selector, agents' node selectors.
 * Pure and synchronous; the change-feed consumer feeds it.
 *
 * Only entries whose SPIFFE ID and parent ID are both in the server's trust
 * domain are kept, so everything is keyed by path.
 */
export class EntryIndex {
  private readonly interner = new Interner();
  private readonly entries = new Map<string, StoredEntry>();
  /** parent path → entries parented by it, in insertion order (crawl order). */
  private readonly byParent = new Map<string, Children>();
  private readonly aliases = new Map<string, AliasRecord>();
  /** shared selector → aliases having that selector. */
  private readonly aliasesBySelector = new Map<Selector, Set<AliasRecord>>();
  /** agent SPIFFE ID → its node selectors (shared objects). */
  private readonly agentSelectors = new Map<string, readonly Selector[]>();
  /** spiffe path → number of entries with that ID and admin / downstream set. */
  private readonly admins = new Map<string, number>();
  private readonly downstreams = new Map<string, number>();

  /** Bumped on every change; invalidates remembered answers. */
  private version = 0;
  private readonly memo = new Map<string, { readonly version: number; readonly ids: ReadonlySet<string> }>();

  constructor(readonly trustDomain: string) {}

  get entryCount(): number {
    return this.entries.size + this.aliases.size;
  }

  get agentCount(): number {
    return this.agentSelectors.size;
  }

  /**
   * Adds or replaces an entry; entries outside the trust domain are dropped
   * (and any old copy removed). Takes ownership of `entry`: it is frozen and
   * its parts are replaced by shared ones (see storedEntry).
   */
  putEntry(entry: Entry): void {
    this.version++;
    this.removeEntry(entry.id);
    if (entry.spiffeId?.trustDomain !== this.trustDomain || entry.parentId?.trustDomain !== this.trustDomain) return;
    const stored = storedEntry(entry, this.trustDomain, this.interner);
    const parentPath = parentPathOf(stored);
    if (parentPath === serverPath) this.addAlias(stored);
    else {
      this.entries.set(stored.id, stored);
      const siblings = this.byParent.get(parentPath);
      const updated = addChild(siblings, stored);
      if (updated !== siblings) this.byParent.set(parentPath, updated);
    }
    if (stored.admin) bump(this.admins, pathOf(stored), 1);
    if (stored.downstream) bump(this.downstreams, pathOf(stored), 1);
  }

  removeEntry(id: string): void {
    this.version++;
    const record = this.entries.get(id);
    if (record) {
      this.entries.delete(id);
      const parentPath = parentPathOf(record);
      const siblings = this.byParent.get(parentPath);
      if (siblings && !removeChild(siblings, record)) this.byParent.delete(parentPath);
      this.forget(record);
      return;
    }
    const alias = this.aliases.get(id);
    if (!alias) return;
    this.aliases.delete(id);
    for (const sel of alias.selectors) {
      const set = this.aliasesBySelector.get(sel);
      if (!set) continue;
      set.delete(alias);
      if (set.size === 0) this.aliasesBySelector.delete(sel);
    }
    this.forget(alias.entry);
  }

  /** Replaces an agent's node selectors; an empty list forgets the agent. */
  setAgentSelectors(agentId: string, selectors: readonly Selector[]): void {
    this.version++;
    const old = this.agentSelectors.get(agentId);
    if (old) this.interner.release(old);
    if (selectors.length === 0) this.agentSelectors.delete(agentId);
    else this.agentSelectors.set(agentId, sharedSelectors(selectors, this.interner));
  }

  /**
   * SPIRE's crawl: entries parented by the agent, each followed depth-first by
   * the entries parented by its SPIFFE ID, then the same from every node alias
   * the agent belongs to. A parent path is crawled once.
   */
  authorizedRecords(agentId: string): StoredEntry[] {
    const out: StoredEntry[] = [];
    const agentPath = this.pathInTrustDomain(agentId);
    if (agentPath === undefined) return out;
    const seen = new Set<string>();
    this.crawl(agentPath, seen, out);
    for (const alias of this.aliasesOf(agentId)) this.crawl(pathOf(alias.entry), seen, out);
    return out;
  }

  /** The agent's entries: the stored (frozen) messages themselves, in a fresh array. */
  authorizedEntries(agentId: string): StoredEntry[] {
    return this.authorizedRecords(agentId);
  }

  /**
   * One entry if the agent may obtain it. Callers ask for many entries of
   * one agent in a row (a BatchNewX509SVID of 500 CSRs), so the agent's
   * authorized id set is remembered until the index next changes, for the
   * last few agents asked about.
   */
  authorizedEntry(agentId: string, entryId: string): StoredEntry | undefined {
    const target = this.entries.get(entryId);
    if (!target) return undefined;
    let memo = this.memo.get(agentId);
    if (!memo || memo.version !== this.version) {
      memo = { version: this.version, ids: new Set(this.authorizedRecords(agentId).map((e) => e.id)) };
      this.memo.delete(agentId);
      this.memo.set(agentId, memo);
      if (this.memo.size > memoAgents) this.memo.delete(this.memo.keys().next().value as string);
    }
    return memo.ids.has(entryId) ? target : undefined;
  }

  isAdmin(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.admins.get(path) ?? 0) > 0;
  }

  isDownstream(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.downstreams.get(path) ?? 0) > 0;
  }

  /** Every entry (tests, debugging). */
  allEntries(): StoredEntry[] {
    return [...this.entries.values(), ...[...this.aliases.values()].map((a) => a.entry)];
  }

  /**
   * Depth-first, pre-order, iterative (a long chain of nested entries must
   * not overflow the stack). Only paths that parent something are recorded
   * as seen: crawling a childless path again would add nothing, and most
   * entries are leaves, so the set stays small.
   */
  private crawl(root: string, seen: Set<string>, out: StoredEntry[]): void {
    if (seen.has(root)) return;
    const first = this.byParent.get(root);
    if (!first) return;
    seen.add(root);
    const stack: Iterator<StoredEntry>[] = [childrenOf(first)];
    while (stack.length > 0) {
      const step = (stack[stack.length - 1] as Iterator<StoredEntry>).next();
      if (step.done) {
        stack.pop();
        continue;
      }
      const child = step.value;
      out.push(child);
      const childPath = pathOf(child);
      const grandChildren = this.byParent.get(childPath);
      if (!grandChildren || seen.has(childPath)) continue;
      seen.add(childPath);
      stack.push(childrenOf(grandChildren));
    }
  }

  /** Aliases whose selectors are all among the agent's node selectors, ordered by entry id. */
  private aliasesOf(agentId: string): AliasRecord[] {
    const agent = this.agentSelectors.get(agentId);
    if (!agent || this.aliases.size === 0) return [];
    const found = new Set<AliasRecord>();
    for (const sel of agent) {
      const candidates = this.aliasesBySelector.get(sel);
      if (!candidates) continue;
      for (const alias of candidates) {
        if (found.has(alias)) continue;
        if (alias.selectors.every((s) => agent.includes(s))) found.add(alias);
      }
    }
    return [...found].sort((a, b) => (a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0));
  }

  private addAlias(entry: StoredEntry): void {
    const alias: AliasRecord = { entry, selectors: [...new Set(entry.selectors)] };
    this.aliases.set(entry.id, alias);
    for (const sel of alias.selectors) {
      let set = this.aliasesBySelector.get(sel);
      if (!set) {
        set = new Set();
        this.aliasesBySelector.set(sel, set);
      }
      set.add(alias);
    }
  }

  private forget(record: StoredEntry): void {
    this.interner.release(record.selectors);
    if (record.admin) bump(this.admins, pathOf(record), -1);
    if (record.downstream) bump(this.downstreams, pathOf(record), -1);
  }

  /** The path of a SPIFFE ID URI in our trust domain, or undefined for anything else. */
  private pathInTrustDomain(id: string): string | undefined {
    const prefix = `spiffe://${this.trustDomain}`;
    if (!id.startsWith(prefix)) return undefined;
    const path = id.slice(prefix.length);
    if (path !== "" && path[0] !== "/") return undefined;
    return path;
  }
}

function pathOf(entry: StoredEntry): string {
  return (entry.spiffeId as SPIFFEID).path;
}

function parentPathOf(entry: StoredEntry): string {
  return (entry.parentId as SPIFFEID).path;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
