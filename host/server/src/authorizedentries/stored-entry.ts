import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";

/**
 * How the cache keeps an entry: the Entry message itself, deeply frozen, so
 * a lookup hands out the stored objects without copying (10k entries in well
 * under a millisecond) and nobody can alter the cache through them. Equal
 * parts are shared between entries: one Selector object per distinct
 * selector, one SPIFFEID object per parent, one empty list, one 0n.
 */
export type StoredEntry = Readonly<Entry>;

const empty: readonly string[] = Object.freeze([]);
const emptySelectors: readonly Selector[] = Object.freeze([]);
const zero = 0n;

/**
 * A selector shared by every entry (and agent) that has it. Frozen like the
 * rest of a stored entry; the reference count is a private field, invisible
 * to encoders and comparisons.
 */
class SharedSelector implements Selector {
  #refs = 1;
  constructor(
    readonly type: string,
    readonly value: string,
  ) {
    Object.freeze(this);
  }

  acquire(): this {
    this.#refs++;
    return this;
  }

  /** True when nothing holds it any more. */
  release(): boolean {
    return --this.#refs <= 0;
  }
}

/**
 * The shared parts. Selectors are reference counted (values such as pod UIDs
 * are often unique, and churn must not grow the table forever) and found by
 * type then value, so no key string is built per selector; parent IDs are
 * few (agents and the workloads that parent others) and kept until the index
 * is rebuilt.
 */
export class Interner {
  private readonly selectors = new Map<string, Map<string, SharedSelector>>();
  private readonly parents = new Map<string, SPIFFEID>();

  /** The shared selector for (type, value); each call must be paired with a release. */
  selector(type: string, value: string): Selector {
    let byValue = this.selectors.get(type);
    if (!byValue) {
      byValue = new Map();
      this.selectors.set(type, byValue);
    }
    const known = byValue.get(value);
    if (known) return known.acquire();
    const sel = new SharedSelector(type, value);
    byValue.set(value, sel);
    return sel;
  }

  /** The shared selector if some holder has it (lookups that must not take a reference). */
  find(type: string, value: string): Selector | undefined {
    return this.selectors.get(type)?.get(value);
  }

  release(selectors: readonly Selector[]): void {
    for (const s of selectors) {
      if (!(s instanceof SharedSelector) || !s.release()) continue;
      const byValue = this.selectors.get(s.type);
      if (byValue?.get(s.value) !== s) continue;
      byValue.delete(s.value);
      if (byValue.size === 0) this.selectors.delete(s.type);
    }
  }

  parent(trustDomain: string, path: string): SPIFFEID {
    let id = this.parents.get(path);
    if (!id) {
      id = Object.freeze({ trustDomain, path });
      this.parents.set(path, id);
    }
    return id;
  }
}

/** Shared selectors for a list, duplicates dropped (a set, as SPIRE treats selectors). */
export function sharedSelectors(list: readonly Selector[], interner: Interner): readonly Selector[] {
  if (list.length === 0) return emptySelectors;
  const out: Selector[] = [];
  for (const s of list) {
    const shared = interner.selector(s.type, s.value);
    if (out.includes(shared)) interner.release([shared]);
    else out.push(shared);
  }
  return Object.freeze(out);
}

/**
 * Turns an entry whose IDs the caller has checked to be in `trustDomain`
 * into its stored form, in place: the cache takes ownership of the object
 * (freshly decoded from the DataStore), swaps its parts for shared or
 * exact-size ones and freezes it. Reusing the decoded object rather than
 * copying it spares a second object per entry while loading 100k of them.
 */
export function storedEntry(input: Entry, trustDomain: string, interner: Interner): StoredEntry {
  // A stored (frozen) entry handed in again gets a mutable copy of its own.
  const entry = Object.isFrozen(input)
    ? { ...input, selectors: [...input.selectors], federatesWith: [...input.federatesWith], dnsNames: [...input.dnsNames] }
    : input;
  entry.spiffeId = Object.freeze({ trustDomain, path: entry.spiffeId?.path ?? "" });
  entry.parentId = interner.parent(trustDomain, entry.parentId?.path ?? "");
  // New exact-size arrays: a decoded list grew by push() and carries spare capacity.
  entry.selectors = (entry.selectors.length === 0
    ? emptySelectors
    : Object.freeze(entry.selectors.map((s) => interner.selector(s.type, s.value)))) as Selector[];
  entry.federatesWith = frozenList(entry.federatesWith);
  entry.dnsNames = frozenList(entry.dnsNames);
  if (entry.expiresAt === zero) entry.expiresAt = zero;
  if (entry.revisionNumber === zero) entry.revisionNumber = zero;
  if (entry.additionalAttributes) Object.freeze(entry.additionalAttributes);
  return Object.freeze(entry);
}

function frozenList(list: string[]): string[] {
  return (list.length === 0 ? empty : Object.freeze(list.slice())) as string[];
}
