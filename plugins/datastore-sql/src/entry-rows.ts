/**
 * Entries between rows and messages. A page of entries is completed with two
 * queries (its selectors, its federated trust domains), never one per entry.
 */
import type { Knex } from "knex";
import type { Entry, Entry_AdditionalAttributes } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { Dialect } from "./connection.js";
import { spiffeIdMessage } from "./ids.js";
import { big, bool, chunks, dbBig, num } from "./store.js";

export interface EntryRow {
  id: string;
  spiffe_id: string;
  parent_id: string;
  x509_svid_ttl: number;
  jwt_svid_ttl: number;
  admin: unknown;
  downstream: unknown;
  store_svid: unknown;
  expires_at: unknown;
  dns_names: string;
  revision_number: unknown;
  hint: string;
  created_at: unknown;
  additional_attributes: string | null;
  identity_hash: string;
}

export function entryRowOf(
  entry: Entry,
  keys: { spiffeId: string; parentId: string; identityHash: string },
): Record<string, unknown> {
  return {
    id: entry.id,
    spiffe_id: keys.spiffeId,
    parent_id: keys.parentId,
    x509_svid_ttl: entry.x509SvidTtl,
    jwt_svid_ttl: entry.jwtSvidTtl,
    admin: entry.admin,
    downstream: entry.downstream,
    store_svid: entry.storeSvid,
    expires_at: dbBig(entry.expiresAt),
    dns_names: JSON.stringify(entry.dnsNames),
    revision_number: dbBig(entry.revisionNumber),
    hint: entry.hint,
    created_at: dbBig(entry.createdAt),
    additional_attributes: entry.additionalAttributes ? JSON.stringify(entry.additionalAttributes) : null,
    identity_hash: keys.identityHash,
  };
}

/**
 * Entries for rows, with selectors and federates_with loaded for all of them at once. Keeps row order.
 *
 * `contiguous` says the rows are every entry in their id range (an unfiltered page ordered by id):
 * their children are then read by that id range, one index range scan per table. An IN list of a
 * thousand ids is what PostgreSQL plans worst: it scanned all of entry_selectors for every chunk,
 * about 0.25 s each, so a 100k-entry cold start spent 24 s on it; by range the same page takes
 * 30 ms. Filtered pages, whose ids are scattered, keep the IN lists.
 */
export async function hydrateEntries(db: Knex | Knex.Transaction, rows: readonly EntryRow[], dialect: Dialect, contiguous = false): Promise<Entry[]> {
  if (rows.length === 0) return [];
  const selectors = new Map<string, Selector[]>();
  const federates = new Map<string, string[]>();
  const selectorQuery = () => db("entry_selectors").orderBy([{ column: "entry_id" }, { column: "seq" }]).select("entry_id", "type", "value");
  const federatesQuery = () => db("entry_federates_with").orderBy([{ column: "entry_id" }, { column: "trust_domain" }]).select("entry_id", "trust_domain");
  const parts = contiguous
    ? [(q: Knex.QueryBuilder) => q.whereBetween("entry_id", [rows[0]!.id, rows[rows.length - 1]!.id])]
    : chunks(rows.map((r) => r.id), dialect.maxInList).map((part) => (q: Knex.QueryBuilder) => q.whereIn("entry_id", part));
  for (const where of parts) {
    for (const s of await where(selectorQuery())) push(selectors, s.entry_id as string, { type: s.type as string, value: s.value as string });
    for (const f of await where(federatesQuery())) push(federates, f.entry_id as string, f.trust_domain as string);
  }
  return rows.map((r) => entryFromRows(r, selectors.get(r.id) ?? [], federates.get(r.id) ?? []));
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function entryFromRows(r: EntryRow, selectors: Selector[], federatesWith: string[]): Entry {
  return {
    id: r.id,
    spiffeId: spiffeIdMessage(r.spiffe_id),
    parentId: spiffeIdMessage(r.parent_id),
    selectors,
    x509SvidTtl: num(r.x509_svid_ttl),
    federatesWith,
    admin: bool(r.admin),
    downstream: bool(r.downstream),
    expiresAt: big(r.expires_at),
    dnsNames: JSON.parse(r.dns_names || "[]") as string[],
    revisionNumber: big(r.revision_number),
    storeSvid: bool(r.store_svid),
    jwtSvidTtl: num(r.jwt_svid_ttl),
    hint: r.hint ?? "",
    createdAt: big(r.created_at),
    additionalAttributes: r.additional_attributes ? (JSON.parse(r.additional_attributes) as Entry_AdditionalAttributes) : undefined,
  };
}
