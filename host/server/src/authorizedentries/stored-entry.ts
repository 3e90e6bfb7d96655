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
 * The shared parts. Selectors are reference counted (values such as pod UIDs
 * are often unique, and churn must not grow the table forever); parent IDs
 * are few (agents and the workloads that parent others) and kept until the
 * index is rebuilt.
 */
export class Interner {
  private readonly selectors = new Map<string, { sel: Selector; refs: number }>();
  private readonly parents = new Map<string, SPIFFEID>();

  selector(type: string, value: string): Selector {
    const key = selectorKey(type, value);
    const known = this.selectors.get(key);
    if (known) {
      known.refs++;
      return known.sel;
    }
    const sel = Object.freeze({ type, value });
    this.selectors.set(key, { sel, refs: 1 });
    return sel;
  }

  release(selectors: readonly Selector[]): void {
    for (const s of selectors) {
      const key = selectorKey(s.type, s.value);
      const known = this.selectors.get(key);
      if (known && --known.refs <= 0) this.selectors.delete(key);
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

/** An unambiguous key for a selector (types may not contain ':' through the API, but stores may hold anything). */
export function selectorKey(type: string, value: string): string {
  return `${type.length}:${type}:${value}`;
}

/** The frozen, shared-parts copy of an entry whose IDs the caller has checked to be in `trustDomain`. */
export function storedEntry(entry: Entry, trustDomain: string, interner: Interner): StoredEntry {
  const stored: Entry = {
    id: entry.id,
    spiffeId: Object.freeze({ trustDomain, path: entry.spiffeId?.path ?? "" }),
    parentId: interner.parent(trustDomain, entry.parentId?.path ?? ""),
    selectors:
      entry.selectors.length === 0
        ? (emptySelectors as Selector[])
        : (Object.freeze(entry.selectors.map((s) => interner.selector(s.type, s.value))) as Selector[]),
    x509SvidTtl: entry.x509SvidTtl,
    federatesWith: frozenList(entry.federatesWith),
    admin: entry.admin,
    downstream: entry.downstream,
    expiresAt: entry.expiresAt === zero ? zero : entry.expiresAt,
    dnsNames: frozenList(entry.dnsNames),
    revisionNumber: entry.revisionNumber === zero ? zero : entry.revisionNumber,
    storeSvid: entry.storeSvid,
    jwtSvidTtl: entry.jwtSvidTtl,
    hint: entry.hint,
    createdAt: entry.createdAt,
  };
  if (entry.additionalAttributes) stored.additionalAttributes = Object.freeze({ ...entry.additionalAttributes });
  return Object.freeze(stored);
}

function frozenList(list: readonly string[]): string[] {
  return (list.length === 0 ? empty : Object.freeze([...list])) as string[];
}
