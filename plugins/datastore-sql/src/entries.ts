/**
 * Registration entries: validation, writes (each item its own transaction,
 * with its change event) and reads by id. Listing and counting with filters
 * are in entry-queries.ts; row <-> message mapping in entry-rows.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";
import { alreadyExists, DataStoreError, failedPrecondition, invalid, notFound } from "./errors.js";
import { spiffeIdString, trustDomainName } from "./ids.js";
import { normalizeSelectors, selectorKey } from "./selectors.js";
import { type Store, type Tx, EventKind, EventOp, chunks, query, write } from "./store.js";
import { type EntryRow, entryFromRows, entryRowOf, hydrateEntries } from "./entry-rows.js";

const entryIdPattern = /^[A-Za-z0-9._-]{1,255}$/;

/** An entry ready to store: validated, keys as strings, selectors distinct. */
export interface ValidEntry {
  readonly entry: Entry;
  readonly spiffeId: string;
  readonly parentId: string;
  readonly federatesWith: readonly string[];
  readonly identityHash: string;
}

export function validateEntry(entry: Entry): ValidEntry {
  if (entry.id !== "" && !entryIdPattern.test(entry.id)) {
    throw invalid(`invalid registration entry: entry ID ${JSON.stringify(entry.id)} must be at most 255 characters of A-Z, a-z, 0-9, ".", "_" and "-"`);
  }
  const spiffeId = spiffeIdString(entry.spiffeId, "SPIFFE ID");
  const parentId = spiffeIdString(entry.parentId, "parent ID");
  if (entry.selectors.length === 0) throw invalid("invalid registration entry: missing selector list");
  const selectors = normalizeSelectors(entry.selectors, "registration entry");
  if (entry.x509SvidTtl < 0) throw invalid("invalid registration entry: X509SVIDTTL is not set");
  if (entry.jwtSvidTtl < 0) throw invalid("invalid registration entry: JWTSVIDTTL is not set");
  if (entry.storeSvid && new Set(selectors.map((s) => s.type)).size > 1) {
    throw invalid("invalid registration entry: selector types must be the same when store SVID is enabled");
  }
  const federatesWith = [...new Set(entry.federatesWith.map((td) => trustDomainName(td, "federated trust domain")))];
  return {
    entry: { ...entry, selectors, federatesWith },
    spiffeId,
    parentId,
    federatesWith,
    identityHash: identityHash(spiffeId, parentId, selectors.map(selectorKey)),
  };
}

/** What makes two entries "similar": same SPIFFE ID, parent and selector set. */
function identityHash(spiffeId: string, parentId: string, selectorKeys: readonly string[]): string {
  const h = createHash("sha256");
  h.update(spiffeId).update("\0").update(parentId);
  for (const k of [...selectorKeys].sort()) h.update("\0").update(k);
  return h.digest("hex");
}

export async function createEntry(store: Store, input: Entry, now: () => bigint): Promise<Entry> {
  const valid = validateEntry(input);
  const id = input.id === "" ? randomUUID() : input.id;
  return write(store, async (tx) => {
    const { trx } = tx;
    if (await trx("registered_entries").where({ id }).first("id")) throw alreadyExists(`entry with ID ${JSON.stringify(id)} already exists`);
    const similar = await trx("registered_entries")
      .where({ identity_hash: valid.identityHash, spiffe_id: valid.spiffeId, parent_id: valid.parentId })
      .select("*");
    for (const row of similar) {
      const [existing] = await hydrateEntries(trx, [row as EntryRow], store.dialect);
      if (existing && sameSelectorSet(existing.selectors, valid.entry.selectors)) {
        throw new SimilarEntryError(existing);
      }
    }
    await requireBundles(trx, valid.federatesWith);
    const entry: Entry = { ...valid.entry, id, revisionNumber: 0n, createdAt: now() };
    await insertEntry(trx, entry, valid, store);
    tx.event(EventKind.ENTRY, EventOp.CREATED, id);
    return entry;
  });
}

/** ALREADY_EXISTS for a create that duplicates an entry; carries that entry. */
export class SimilarEntryError extends DataStoreError {
  constructor(readonly existing: Entry) {
    super("already-exists", "similar entry already exists");
  }
}

function sameSelectorSet(a: readonly { type: string; value: string }[], b: readonly { type: string; value: string }[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(selectorKey));
  return b.every((s) => keys.has(selectorKey(s)));
}

async function insertEntry(trx: Knex.Transaction, entry: Entry, valid: ValidEntry, store: Store): Promise<void> {
  await trx("registered_entries").insert(entryRowOf(entry, valid));
  await insertChildren(trx, entry.id, valid, store);
}

async function insertChildren(trx: Knex.Transaction, id: string, valid: ValidEntry, store: Store): Promise<void> {
  const selectorRows = valid.entry.selectors.map((s, seq) => ({ entry_id: id, seq, type: s.type, value: s.value }));
  for (const part of chunks(selectorRows, Math.floor(store.dialect.maxInList / 4))) await trx("entry_selectors").insert(part);
  const fedRows = valid.federatesWith.map((td) => ({ entry_id: id, trust_domain: td }));
  for (const part of chunks(fedRows, Math.floor(store.dialect.maxInList / 2))) await trx("entry_federates_with").insert(part);
}

/** FAILED_PRECONDITION unless every trust domain has a bundle. */
async function requireBundles(trx: Knex.Transaction, trustDomains: readonly string[]): Promise<void> {
  if (trustDomains.length === 0) return;
  const found = new Set((await trx("bundles").whereIn("trust_domain", [...trustDomains]).select("trust_domain")).map((r) => r.trust_domain as string));
  for (const td of trustDomains) {
    if (!found.has(td)) throw failedPrecondition(`unable to find federated bundle ${JSON.stringify(`spiffe://${td}`)}`);
  }
}

const allFields: EntryMask = {
  spiffeId: true,
  parentId: true,
  selectors: true,
  x509SvidTtl: true,
  federatesWith: true,
  admin: true,
  downstream: true,
  expiresAt: true,
  dnsNames: true,
  revisionNumber: false,
  storeSvid: true,
  jwtSvidTtl: true,
  hint: true,
  createdAt: false,
  additionalAttributes: true,
};

export async function updateEntry(store: Store, input: Entry, mask: EntryMask | undefined): Promise<Entry> {
  if (input.id === "") throw invalid("invalid registration entry: missing entry ID");
  const m = mask ?? allFields;
  return write(store, async (tx) => {
    const { trx } = tx;
    const row = await lockedEntryRow(tx, input.id);
    if (!row) throw notFound("no such registration entry");
    const [current] = await hydrateEntries(trx, [row], store.dialect);
    const merged: Entry = {
      ...current!,
      spiffeId: m.spiffeId ? input.spiffeId : current!.spiffeId,
      parentId: m.parentId ? input.parentId : current!.parentId,
      selectors: m.selectors ? input.selectors : current!.selectors,
      x509SvidTtl: m.x509SvidTtl ? input.x509SvidTtl : current!.x509SvidTtl,
      federatesWith: m.federatesWith ? input.federatesWith : current!.federatesWith,
      admin: m.admin ? input.admin : current!.admin,
      downstream: m.downstream ? input.downstream : current!.downstream,
      expiresAt: m.expiresAt ? input.expiresAt : current!.expiresAt,
      dnsNames: m.dnsNames ? input.dnsNames : current!.dnsNames,
      storeSvid: m.storeSvid ? input.storeSvid : current!.storeSvid,
      jwtSvidTtl: m.jwtSvidTtl ? input.jwtSvidTtl : current!.jwtSvidTtl,
      hint: m.hint ? input.hint : current!.hint,
      additionalAttributes: m.additionalAttributes ? input.additionalAttributes : current!.additionalAttributes,
      revisionNumber: current!.revisionNumber + 1n,
    };
    const valid = validateEntry(merged);
    if (m.federatesWith) await requireBundles(trx, valid.federatesWith);
    const entry = valid.entry;
    await trx("registered_entries").where({ id: entry.id }).update(entryRowOf(entry, valid));
    if (m.selectors || m.federatesWith) {
      if (m.selectors) await trx("entry_selectors").where({ entry_id: entry.id }).delete();
      if (m.federatesWith) await trx("entry_federates_with").where({ entry_id: entry.id }).delete();
      await insertChildren(trx, entry.id, {
        ...valid,
        entry: { ...entry, selectors: m.selectors ? entry.selectors : [] },
        federatesWith: m.federatesWith ? valid.federatesWith : [],
      }, store);
    }
    tx.event(EventKind.ENTRY, EventOp.UPDATED, entry.id);
    return entry;
  });
}

async function lockedEntryRow(tx: Tx, id: string): Promise<EntryRow | undefined> {
  const q = tx.trx("registered_entries").where({ id }).first("*");
  return (tx.dialect.rowLocks ? await q.forUpdate() : await q) as EntryRow | undefined;
}

export async function deleteEntry(store: Store, id: string): Promise<Entry> {
  if (id === "") throw invalid("missing entry ID");
  return write(store, async (tx) => {
    const row = await lockedEntryRow(tx, id);
    if (!row) throw notFound("no such registration entry");
    const [entry] = await hydrateEntries(tx.trx, [row], store.dialect);
    await deleteEntryRows(tx, id);
    return entry!;
  });
}

/** Deletes an entry (children first: not every engine cascades) and records the event. */
export async function deleteEntryRows(tx: Tx, id: string): Promise<void> {
  await tx.trx("entry_selectors").where({ entry_id: id }).delete();
  await tx.trx("entry_federates_with").where({ entry_id: id }).delete();
  await tx.trx("registered_entries").where({ id }).delete();
  tx.event(EventKind.ENTRY, EventOp.DELETED, id);
}

export async function fetchEntry(store: Store, id: string): Promise<Entry> {
  if (id === "") throw invalid("missing entry ID");
  const [entry] = await fetchEntries(store, [id]);
  if (!entry) throw notFound("no such registration entry");
  return entry;
}

export async function fetchEntries(store: Store, ids: readonly string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const part of chunks([...new Set(ids)].filter((id) => id !== ""), store.dialect.maxInList)) {
    const rows = await query(() => store.knex("registered_entries").whereIn("id", part).select("*"));
    out.push(...(await query(() => hydrateEntries(store.knex, rows as EntryRow[], store.dialect))));
  }
  return out;
}

export async function pruneEntries(store: Store, expiresBefore: bigint): Promise<number> {
  const ids = await query(() =>
    store.knex("registered_entries").where("expires_at", ">", 0).andWhere("expires_at", "<", String(expiresBefore)).orderBy("id").pluck("id"),
  );
  let count = 0;
  for (const part of chunks(ids as string[], 200)) {
    count += await write(store, async (tx) => {
      let n = 0;
      for (const id of part) {
        // Re-check inside the transaction: another server may have changed or deleted it.
        const still = await tx.trx("registered_entries").where({ id }).andWhere("expires_at", ">", 0).andWhere("expires_at", "<", String(expiresBefore)).first("id");
        if (!still) continue;
        await deleteEntryRows(tx, id);
        n++;
      }
      return n;
    });
  }
  return count;
}

export { entryFromRows };
