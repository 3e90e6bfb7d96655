/**
 * The agent's cache (SPIRE's pkg/agent/manager/cache): authorized entries,
 * the bundles, the workload X509-SVIDs, and the workloads subscribed to
 * them. Pure state: the manager fills it, the Workload API reads it and
 * subscribes. Every subscriber gets the complete current state again when
 * anything it sees changes (an SVID rotated, a bundle changed, an entry came
 * or went), never a delta.
 */
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { EntryIndex, selectorKey } from "./entry-index.js";
import type { X509SvidRecord } from "./x509-svid.js";

export interface Identity {
  readonly entry: Entry;
  readonly svid: X509SvidRecord;
}

/** What a workload with given selectors is entitled to right now. */
export interface WorkloadUpdate {
  /** Ordered by entry id; hints unique (the oldest entry keeps a duplicated hint). */
  readonly identities: readonly Identity[];
  readonly bundle: Bundle | undefined;
  /** Trust domain name → bundle, for the union of the identities' federates_with. */
  readonly federatedBundles: ReadonlyMap<string, Bundle>;
  /** Entries that match but whose SVID is not minted yet. */
  readonly pending: number;
}

export interface Subscription {
  readonly selectors: ReadonlySet<string>;
  /** The latest state (computed on demand). */
  current(): WorkloadUpdate;
  /** Resolves at the next change, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void>;
  unsubscribe(): void;
}

interface Subscriber {
  readonly selectors: ReadonlySet<string>;
  matched: readonly string[];
  version: number;
  wake: (() => void) | undefined;
}

export class AgentCache {
  private entries = new Map<string, Entry>();
  private index = new EntryIndex(this.entries);
  private bundle: Bundle | undefined;
  private federated = new Map<string, Bundle>();
  private readonly svids = new Map<string, X509SvidRecord>();
  private readonly lastUsed = new Map<string, number>();
  private readonly subscribers = new Set<Subscriber>();
  /** Entry ids some subscriber matched but that have no SVID: the manager mints them first. */
  private readonly wanted = new Set<string>();
  private onWanted: (() => void) | undefined;

  get entryMap(): ReadonlyMap<string, Entry> {
    return this.entries;
  }

  get ownBundle(): Bundle | undefined {
    return this.bundle;
  }

  get federatedBundles(): ReadonlyMap<string, Bundle> {
    return this.federated;
  }

  get svidCount(): number {
    return this.svids.size;
  }

  svidOf(entryId: string): X509SvidRecord | undefined {
    return this.svids.get(entryId);
  }

  allSvids(): IterableIterator<X509SvidRecord> {
    return this.svids.values();
  }

  /** Called when a subscriber needs an SVID the cache does not hold (the manager syncs early). */
  setWantedListener(fn: () => void): void {
    this.onWanted = fn;
  }

  takeWanted(): string[] {
    const out = [...this.wanted].filter((id) => this.entries.has(id) && !this.svids.has(id));
    this.wanted.clear();
    return out;
  }

  /** Ids of entries with at least one subscriber. */
  subscribedEntries(): Set<string> {
    const out = new Set<string>();
    for (const s of this.subscribers) for (const id of s.matched) out.add(id);
    return out;
  }

  setEntries(entries: readonly Entry[]): void {
    // The common case every sync interval: nothing changed, and the sync handed back the cached objects in the
    // cached order. Checked without allocating (10k entries every 5 s otherwise built a Map to throw away).
    if (this.holdsExactly(entries)) return;
    // An entry with the same revision and creation time is the same entry: keep the cached object.
    const same = (a: Entry | undefined, b: Entry) => a !== undefined && (a === b || (a.revisionNumber === b.revisionNumber && a.createdAt === b.createdAt));
    const next = new Map(entries.map((e) => {
      const have = this.entries.get(e.id);
      return [e.id, have && same(have, e) ? have : e];
    }));
    const changed = next.size !== this.entries.size || [...next].some(([id, e]) => this.entries.get(id) !== e);
    if (!changed) return;
    this.entries = next;
    this.index = new EntryIndex(next);
    for (const id of [...this.svids.keys()]) {
      if (!next.has(id)) {
        this.svids.delete(id);
        this.lastUsed.delete(id);
      }
    }
    this.rematchAll();
  }

  /** Whether `entries` are the cached entry objects, all of them, in the cached order. */
  private holdsExactly(entries: readonly Entry[]): boolean {
    if (entries.length !== this.entries.size) return false;
    let i = 0;
    for (const cached of this.entries.values()) if (entries[i++] !== cached) return false;
    return true;
  }

  setBundles(own: Bundle, federated: ReadonlyMap<string, Bundle>): void {
    const same = (a: Bundle | undefined, b: Bundle | undefined) => a !== undefined && b !== undefined && bundleEquals(a, b);
    const fedSame = federated.size === this.federated.size && [...federated].every(([td, b]) => same(this.federated.get(td), b));
    if (same(this.bundle, own) && fedSame) return;
    // Equal bundles keep their objects, so streams that compare by identity see no change.
    if (!same(this.bundle, own)) this.bundle = own;
    const next = new Map<string, Bundle>();
    for (const [td, b] of federated) {
      const have = this.federated.get(td);
      next.set(td, have && same(have, b) ? have : b);
    }
    this.federated = next;
    for (const s of this.subscribers) this.bump(s);
  }

  /** Stores fresh SVIDs and tells the subscribers that see them. */
  putSvids(records: readonly X509SvidRecord[]): void {
    if (records.length === 0) return;
    const touched = new Set<string>();
    for (const r of records) {
      if (!this.entries.has(r.entryId)) continue;
      this.svids.set(r.entryId, r);
      touched.add(r.entryId);
    }
    for (const s of this.subscribers) if (s.matched.some((id) => touched.has(id))) this.bump(s);
  }

  /** Drops SVIDs beyond `max`, least recently used first, never one a subscriber sees. */
  evict(max: number): void {
    if (this.svids.size <= max) return;
    const inUse = this.subscribedEntries();
    const candidates = [...this.svids.keys()].filter((id) => !inUse.has(id));
    candidates.sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    for (const id of candidates) {
      if (this.svids.size <= max) break;
      this.svids.delete(id);
      this.lastUsed.delete(id);
    }
  }

  subscribe(selectors: readonly { type: string; value: string }[]): Subscription {
    const sub: Subscriber = { selectors: new Set(selectors.map(selectorKey)), matched: [], version: 0, wake: undefined };
    sub.matched = this.index.match(sub.selectors);
    this.subscribers.add(sub);
    this.noteWanted(sub);
    return {
      selectors: sub.selectors,
      current: () => this.stateFor(sub),
      changed: (signal) =>
        new Promise<void>((resolve) => {
          if (signal.aborted) return resolve();
          const done = () => {
            sub.wake = undefined;
            signal.removeEventListener("abort", done);
            resolve();
          };
          sub.wake = done;
          signal.addEventListener("abort", done, { once: true });
        }),
      unsubscribe: () => {
        this.subscribers.delete(sub);
        sub.wake?.();
      },
    };
  }

  /** One-shot: the state for these selectors (FetchJWTSVID, ValidateJWTSVID). */
  matchingEntries(selectors: readonly { type: string; value: string }[]): Entry[] {
    return this.index.match(new Set(selectors.map(selectorKey))).map((id) => this.entries.get(id)!);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private stateFor(sub: Subscriber): WorkloadUpdate {
    const now = Date.now();
    const identities: Identity[] = [];
    let pending = 0;
    for (const id of sub.matched) {
      const entry = this.entries.get(id);
      const svid = this.svids.get(id);
      if (!entry) continue;
      if (!svid) {
        pending++;
        continue;
      }
      this.lastUsed.set(id, now);
      identities.push({ entry, svid });
    }
    const federatedBundles = new Map<string, Bundle>();
    for (const { entry } of identities) {
      for (const td of entry.federatesWith) {
        const name = td.replace(/^spiffe:\/\//, "");
        const b = this.federated.get(name);
        if (b) federatedBundles.set(name, b);
      }
    }
    return { identities: dedupeHints(identities), bundle: this.bundle, federatedBundles, pending };
  }

  private rematchAll(): void {
    for (const s of this.subscribers) {
      const matched = this.index.match(s.selectors);
      s.matched = matched;
      this.noteWanted(s);
      this.bump(s);
    }
  }

  private noteWanted(s: Subscriber): void {
    let added = false;
    for (const id of s.matched) {
      if (!this.svids.has(id) && !this.wanted.has(id)) {
        this.wanted.add(id);
        added = true;
      }
    }
    if (added) this.onWanted?.();
  }

  private bump(s: Subscriber): void {
    s.version++;
    s.wake?.();
  }
}

/** SPIRE keeps the first of duplicated non-empty hints: oldest entry, then lowest id. */
function dedupeHints(identities: Identity[]): Identity[] {
  const byHint = new Map<string, Identity>();
  for (const i of identities) {
    const hint = i.entry.hint;
    if (hint === "") continue;
    const have = byHint.get(hint);
    if (!have || older(i.entry, have.entry)) byHint.set(hint, i);
  }
  return identities.filter((i) => i.entry.hint === "" || byHint.get(i.entry.hint) === i);
}

function older(a: Entry, b: Entry): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.id < b.id;
}

export function bundleEquals(a: Bundle, b: Bundle): boolean {
  if (a.sequenceNumber !== b.sequenceNumber || a.x509Authorities.length !== b.x509Authorities.length || a.jwtAuthorities.length !== b.jwtAuthorities.length) return false;
  return (
    a.x509Authorities.every((x, i) => x.asn1.equals(b.x509Authorities[i]!.asn1) && x.tainted === b.x509Authorities[i]!.tainted) &&
    a.jwtAuthorities.every((k, i) => k.keyId === b.jwtAuthorities[i]!.keyId && k.publicKey.equals(b.jwtAuthorities[i]!.publicKey) && k.tainted === b.jwtAuthorities[i]!.tainted)
  );
}
