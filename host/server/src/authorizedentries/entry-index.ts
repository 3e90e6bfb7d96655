import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { type EntryRecord, Flag, Interner, selectorKey, toEntry, toRecord } from "./entry-record.js";

/** Path of the server's own ID; entries parented by it are node aliases. */
export const serverPath = "/spire/server";

interface AliasRecord {
  readonly record: EntryRecord;
  /** selectorKey of every selector of the alias. */
  readonly keys: readonly string[];
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
  private readonly entries = new Map<string, EntryRecord>();
  /** parent path → entries parented by it, in insertion order (crawl order). */
  private readonly byParent = new Map<string, Map<string, EntryRecord>>();
  private readonly aliases = new Map<string, AliasRecord>();
  /** selector key → aliases having that selector. */
  private readonly aliasesBySelector = new Map<string, Set<AliasRecord>>();
  /** agent SPIFFE ID → its node selectors' keys. */
  private readonly agentSelectors = new Map<string, ReadonlySet<string>>();
  /** spiffe path → number of entries with that ID and admin / downstream set. */
  private readonly admins = new Map<string, number>();
  private readonly downstreams = new Map<string, number>();

  constructor(readonly trustDomain: string) {}

  get entryCount(): number {
    return this.entries.size + this.aliases.size;
  }

  get agentCount(): number {
    return this.agentSelectors.size;
  }

  /** Adds or replaces an entry; entries outside the trust domain are dropped (and any old copy removed). */
  putEntry(entry: Entry): void {
    this.removeEntry(entry.id);
    if (entry.spiffeId?.trustDomain !== this.trustDomain || entry.parentId?.trustDomain !== this.trustDomain) return;
    const record = toRecord(entry, this.interner);
    if (record.parentPath === serverPath) this.addAlias(record);
    else {
      this.entries.set(record.id, record);
      let siblings = this.byParent.get(record.parentPath);
      if (!siblings) {
        siblings = new Map();
        this.byParent.set(record.parentPath, siblings);
      }
      siblings.set(record.id, record);
    }
    if (record.flags & Flag.admin) bump(this.admins, record.spiffePath, 1);
    if (record.flags & Flag.downstream) bump(this.downstreams, record.spiffePath, 1);
  }

  removeEntry(id: string): void {
    const record = this.entries.get(id);
    if (record) {
      this.entries.delete(id);
      const siblings = this.byParent.get(record.parentPath);
      if (siblings) {
        siblings.delete(id);
        if (siblings.size === 0) this.byParent.delete(record.parentPath);
      }
      this.forget(record);
      return;
    }
    const alias = this.aliases.get(id);
    if (!alias) return;
    this.aliases.delete(id);
    for (const key of alias.keys) {
      const set = this.aliasesBySelector.get(key);
      if (!set) continue;
      set.delete(alias);
      if (set.size === 0) this.aliasesBySelector.delete(key);
    }
    this.forget(alias.record);
  }

  /** Replaces an agent's node selectors; an empty list forgets the agent. */
  setAgentSelectors(agentId: string, selectors: readonly Selector[]): void {
    if (selectors.length === 0) this.agentSelectors.delete(agentId);
    else this.agentSelectors.set(agentId, new Set(selectors.map((s) => selectorKey(s.type, s.value))));
  }

  /**
   * SPIRE's crawl: entries parented by the agent, each followed depth-first by
   * the entries parented by its SPIFFE ID, then the same from every node alias
   * the agent belongs to. A parent path is crawled once.
   */
  authorizedRecords(agentId: string): EntryRecord[] {
    const out: EntryRecord[] = [];
    const agentPath = this.pathInTrustDomain(agentId);
    if (agentPath === undefined) return out;
    const seen = new Set<string>();
    this.crawl(agentPath, seen, out);
    for (const alias of this.aliasesOf(agentId)) this.crawl(alias.record.spiffePath, seen, out);
    return out;
  }

  authorizedEntries(agentId: string): Entry[] {
    const records = this.authorizedRecords(agentId);
    const out = new Array<Entry>(records.length);
    for (let i = 0; i < records.length; i++) out[i] = toEntry(records[i] as EntryRecord, this.trustDomain);
    return out;
  }

  /** One entry if the agent may obtain it; the crawl stops as soon as it is reached. */
  authorizedEntry(agentId: string, entryId: string): Entry | undefined {
    const target = this.entries.get(entryId);
    if (!target) return undefined;
    const agentPath = this.pathInTrustDomain(agentId);
    if (agentPath === undefined) return undefined;
    const seen = new Set<string>();
    const scratch: EntryRecord[] = [];
    let found = this.crawl(agentPath, seen, scratch, target);
    for (const alias of found ? [] : this.aliasesOf(agentId)) {
      if ((found = this.crawl(alias.record.spiffePath, seen, scratch, target))) break;
    }
    return found ? toEntry(target, this.trustDomain) : undefined;
  }

  isAdmin(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.admins.get(path) ?? 0) > 0;
  }

  isDownstream(spiffeId: string): boolean {
    const path = this.pathInTrustDomain(spiffeId);
    return path !== undefined && (this.downstreams.get(path) ?? 0) > 0;
  }

  /** Every entry as a message (tests, debugging). */
  allEntries(): Entry[] {
    const out: Entry[] = [];
    for (const r of this.entries.values()) out.push(toEntry(r, this.trustDomain));
    for (const a of this.aliases.values()) out.push(toEntry(a.record, this.trustDomain));
    return out;
  }

  /** Depth-first, pre-order, iterative (a long chain of nested entries must not overflow the stack). */
  private crawl(root: string, seen: Set<string>, out: EntryRecord[], stopAt?: EntryRecord): boolean {
    if (seen.has(root)) return false;
    seen.add(root);
    const first = this.byParent.get(root);
    if (!first) return false;
    const stack: Iterator<EntryRecord>[] = [first.values()];
    while (stack.length > 0) {
      const step = (stack[stack.length - 1] as Iterator<EntryRecord>).next();
      if (step.done) {
        stack.pop();
        continue;
      }
      const child = step.value;
      if (child === stopAt) return true;
      out.push(child);
      if (seen.has(child.spiffePath)) continue;
      seen.add(child.spiffePath);
      const grandChildren = this.byParent.get(child.spiffePath);
      if (grandChildren) stack.push(grandChildren.values());
    }
    return false;
  }

  /** Aliases whose selectors are all among the agent's node selectors, ordered by entry id. */
  private aliasesOf(agentId: string): AliasRecord[] {
    const agent = this.agentSelectors.get(agentId);
    if (!agent || this.aliases.size === 0) return [];
    const found = new Set<AliasRecord>();
    for (const key of agent) {
      const candidates = this.aliasesBySelector.get(key);
      if (!candidates) continue;
      for (const alias of candidates) {
        if (found.has(alias)) continue;
        if (alias.keys.every((k) => agent.has(k))) found.add(alias);
      }
    }
    return [...found].sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  }

  private addAlias(record: EntryRecord): void {
    const keys = [...new Set(record.selectors.map((s) => selectorKey(s.type, s.value)))];
    const alias: AliasRecord = { record, keys };
    this.aliases.set(record.id, alias);
    for (const key of keys) {
      let set = this.aliasesBySelector.get(key);
      if (!set) {
        set = new Set();
        this.aliasesBySelector.set(key, set);
      }
      set.add(alias);
    }
  }

  private forget(record: EntryRecord): void {
    this.interner.release(record.selectors);
    if (record.flags & Flag.admin) bump(this.admins, record.spiffePath, -1);
    if (record.flags & Flag.downstream) bump(this.downstreams, record.spiffePath, -1);
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

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
