import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";

/**
 * What the cache keeps of one registration entry: the Entry's fields in a
 * compact shape. Both IDs are in the server's trust domain (the index refuses
 * others), so only their paths are kept; selectors and repeated strings are
 * interned, so the thousands of entries that share `k8s:ns:prod` or one
 * parent path share one string and one Selector object.
 */
export interface EntryRecord {
  readonly id: string;
  readonly spiffePath: string;
  readonly parentPath: string;
  /** Interned, frozen Selector objects (shared with every entry that has them). */
  readonly selectors: readonly Selector[];
  readonly x509SvidTtl: number;
  readonly jwtSvidTtl: number;
  readonly federatesWith: readonly string[];
  readonly dnsNames: readonly string[];
  readonly flags: number;
  readonly expiresAt: number;
  readonly revisionNumber: number;
  readonly createdAt: number;
  readonly hint: string;
}

export const Flag = {
  admin: 1,
  downstream: 2,
  storeSvid: 4,
  hasAdditionalAttributes: 8,
  disableX509SvidPrefetch: 16,
  jwtSvidIncludeJti: 32,
} as const;

const empty: readonly string[] = Object.freeze([]);

/**
 * Shares equal selectors and short strings between records. Selectors are
 * reference counted (values such as pod UIDs are often unique, and churn must
 * not grow the table forever); other strings (parent paths, trust domains,
 * DNS names) are few and kept until the index is rebuilt.
 */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly selectors = new Map<string, { sel: Selector; refs: number }>();

  string(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

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

  stringList(list: readonly string[]): readonly string[] {
    if (list.length === 0) return empty;
    return Object.freeze(list.map((s) => this.string(s)));
  }

  get size(): { strings: number; selectors: number } {
    return { strings: this.strings.size, selectors: this.selectors.size };
  }
}

/** An unambiguous key for a selector (types may not contain ':' through the API, but stores may hold anything). */
export function selectorKey(type: string, value: string): string {
  return `${type.length}:${type}:${value}`;
}

/** Compacts an entry whose IDs the caller has already checked to be in the trust domain. */
export function toRecord(entry: Entry, interner: Interner): EntryRecord {
  const attrs = entry.additionalAttributes;
  let flags = 0;
  if (entry.admin) flags |= Flag.admin;
  if (entry.downstream) flags |= Flag.downstream;
  if (entry.storeSvid) flags |= Flag.storeSvid;
  if (attrs) {
    flags |= Flag.hasAdditionalAttributes;
    if (attrs.disableX509SvidPrefetch) flags |= Flag.disableX509SvidPrefetch;
    if (attrs.jwtSvidIncludeJti) flags |= Flag.jwtSvidIncludeJti;
  }
  return {
    id: entry.id,
    spiffePath: entry.spiffeId?.path ?? "",
    parentPath: interner.string(entry.parentId?.path ?? ""),
    selectors: Object.freeze(entry.selectors.map((s) => interner.selector(s.type, s.value))),
    x509SvidTtl: entry.x509SvidTtl,
    jwtSvidTtl: entry.jwtSvidTtl,
    federatesWith: interner.stringList(entry.federatesWith),
    dnsNames: interner.stringList(entry.dnsNames),
    flags,
    expiresAt: Number(entry.expiresAt),
    revisionNumber: Number(entry.revisionNumber),
    createdAt: Number(entry.createdAt),
    hint: entry.hint,
  };
}

/**
 * A fresh Entry message for a record. Selector objects are shared (frozen);
 * arrays are copied so a caller may not alter the cache through them.
 */
export function toEntry(record: EntryRecord, trustDomain: string): Entry {
  const f = record.flags;
  const entry: Entry = {
    id: record.id,
    spiffeId: { trustDomain, path: record.spiffePath },
    parentId: { trustDomain, path: record.parentPath },
    selectors: record.selectors.slice(),
    x509SvidTtl: record.x509SvidTtl,
    federatesWith: record.federatesWith.slice(),
    admin: (f & Flag.admin) !== 0,
    downstream: (f & Flag.downstream) !== 0,
    expiresAt: BigInt(record.expiresAt),
    dnsNames: record.dnsNames.slice(),
    revisionNumber: BigInt(record.revisionNumber),
    storeSvid: (f & Flag.storeSvid) !== 0,
    jwtSvidTtl: record.jwtSvidTtl,
    hint: record.hint,
    createdAt: BigInt(record.createdAt),
  };
  if (f & Flag.hasAdditionalAttributes) {
    entry.additionalAttributes = {
      disableX509SvidPrefetch: (f & Flag.disableX509SvidPrefetch) !== 0,
      jwtSvidIncludeJti: (f & Flag.jwtSvidIncludeJti) !== 0,
    };
  }
  return entry;
}
