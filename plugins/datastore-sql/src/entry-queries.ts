/**
 * Listing and counting entries with an EntryFilter. Lists are keyset-paged
 * by id (so a page costs the same at any depth) and each page is read in one
 * snapshot with its selectors and federated trust domains.
 */
import type { Knex } from "knex";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { EntryFilter, PageRequest } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { invalid } from "./errors.js";
import { spiffeIdString, trustDomainName } from "./ids.js";
import { pageSizeOf, pageToken, resumeAfter } from "./paging.js";
import { checkMatchBehavior, normalizeSelectors, whereSetMatches } from "./selectors.js";
import { type Store, num, query, read } from "./store.js";
import { type EntryRow, hydrateEntries } from "./entry-rows.js";

const listRpc = "ListEntries";

/** Applies every set filter; throws INVALID_ARGUMENT for a malformed one. */
export function applyEntryFilter(q: Knex.QueryBuilder, filter: EntryFilter | undefined): void {
  if (!filter) return;
  if (filter.bySpiffeId) q.where("registered_entries.spiffe_id", spiffeIdString(filter.bySpiffeId, "SPIFFE ID filter"));
  if (filter.byParentId) q.where("registered_entries.parent_id", spiffeIdString(filter.byParentId, "parent ID filter"));
  if (filter.byHint !== undefined) q.where("registered_entries.hint", filter.byHint);
  if (filter.byDownstream !== undefined) q.where("registered_entries.downstream", filter.byDownstream);
  if (filter.bySelectors) {
    if (filter.bySelectors.selectors.length === 0) throw invalid("cannot list by empty selector set");
    const behavior = checkMatchBehavior(filter.bySelectors.match, "selector filter");
    const selectors = normalizeSelectors(filter.bySelectors.selectors, "selector filter");
    whereSetMatches(
      q,
      { table: "entry_selectors", owner: "entry_id", outerKey: "registered_entries.id", columns: (s: { type: string; value: string }) => ({ type: s.type, value: s.value }) },
      selectors,
      behavior,
    );
  }
  if (filter.byFederatesWith) {
    if (filter.byFederatesWith.trustDomains.length === 0) throw invalid("cannot list by empty federates with set");
    const behavior = checkMatchBehavior(filter.byFederatesWith.match, "federates with filter");
    const tds = [...new Set(filter.byFederatesWith.trustDomains.map((td) => trustDomainName(td, "federates with filter")))];
    whereSetMatches(
      q,
      { table: "entry_federates_with", owner: "entry_id", outerKey: "registered_entries.id", columns: (td: string) => ({ trust_domain: td }) },
      tds,
      behavior,
    );
  }
}

/** No filter at all: a page is then every entry in its id range. */
function isEmptyFilter(filter: EntryFilter | undefined): boolean {
  return !filter || Object.values(filter).every((v) => v === undefined);
}

export interface EntryPage {
  readonly entries: Entry[];
  readonly nextPageToken: string;
}

/** The pages of a ListEntries stream, produced lazily as the caller reads. */
export async function* listEntries(store: Store, filter: EntryFilter | undefined, page: PageRequest | undefined): AsyncGenerator<EntryPage> {
  const size = pageSizeOf(page?.pageSize ?? 0);
  const maxPages = page?.maxPages ?? 0;
  if (maxPages < 0) throw invalid("max_pages must not be negative");
  let after = resumeAfter(listRpc, page?.pageToken ?? "");
  // Validate the filter before the first query so a bad one fails the call, not a page.
  applyEntryFilter(store.knex("registered_entries"), filter);
  const hasFilter = !isEmptyFilter(filter);
  for (let n = 0; maxPages === 0 || n < maxPages; n++) {
    const { entries, more } = await read(store, async (trx) => {
      const q = trx("registered_entries").select("registered_entries.*");
      applyEntryFilter(q, filter);
      if (after !== undefined) q.where("registered_entries.id", ">", after);
      const rows = (await q.orderBy("registered_entries.id").limit(size + 1)) as EntryRow[];
      const more = rows.length > size;
      return { entries: await hydrateEntries(trx, more ? rows.slice(0, size) : rows, store.dialect, !hasFilter), more };
    });
    const last = entries[entries.length - 1];
    const nextPageToken = more && last ? pageToken(listRpc, last.id) : "";
    if (entries.length > 0 || n === 0) yield { entries, nextPageToken };
    if (!nextPageToken) return;
    after = last!.id;
  }
}

export async function countEntries(store: Store, filter: EntryFilter | undefined): Promise<number> {
  const q = store.knex("registered_entries");
  applyEntryFilter(q, filter);
  const row = await query(() => q.count({ n: "*" }).first());
  return num((row as { n?: unknown } | undefined)?.n);
}
