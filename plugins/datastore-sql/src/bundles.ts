/**
 * Trust bundles, one row per trust domain holding the spire.api.types.Bundle
 * message as protobuf bytes. Read-modify-write operations lock the row
 * (SELECT … FOR UPDATE on PostgreSQL/MySQL; SQLite has one writer).
 */
import type { Knex } from "knex";
import { Bundle, type BundleMask } from "@signet/proto/spire/api/types/bundle";
import { DeleteBundleRequest_Mode as DeleteMode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { alreadyExists, DataStoreError, failedPrecondition, invalid, notFound } from "./errors.js";
import { trustDomainName } from "./ids.js";
import { pageToken, resumeAfter } from "./paging.js";
import { type Store, type Tx, EventKind, EventOp, bytes, chunks, num, query, read, write } from "./store.js";
import { deleteEntryRows } from "./entries.js";
import { pruneAuthorities } from "./bundle-prune.js";

export { DeleteMode };

export function encodeBundle(b: Bundle): Buffer {
  return Buffer.from(Bundle.encode(b).finish());
}

export function decodeBundle(data: unknown): Bundle {
  return Bundle.decode(bytes(data));
}

function requireBundle(b: Bundle | undefined): Bundle & { trustDomain: string } {
  if (!b) throw invalid("missing bundle");
  return { ...b, trustDomain: trustDomainName(b.trustDomain, "bundle trust domain") };
}

async function lockedBundle(tx: Tx, td: string): Promise<Bundle | undefined> {
  const q = tx.trx("bundles").where({ trust_domain: td }).first("data");
  const row = tx.dialect.rowLocks ? await q.forUpdate() : await q;
  return row ? decodeBundle(row.data) : undefined;
}

async function insertBundle(tx: Tx, b: Bundle): Promise<void> {
  await tx.trx("bundles").insert({ trust_domain: b.trustDomain, data: encodeBundle(b) });
  tx.event(EventKind.BUNDLE, EventOp.CREATED, b.trustDomain);
}

async function replaceBundle(tx: Tx, b: Bundle): Promise<void> {
  await tx.trx("bundles").where({ trust_domain: b.trustDomain }).update({ data: encodeBundle(b) });
  tx.event(EventKind.BUNDLE, EventOp.UPDATED, b.trustDomain);
}

export async function createBundle(store: Store, input: Bundle | undefined): Promise<Bundle> {
  const b = requireBundle(input);
  return write(store, async (tx) => {
    if (await lockedBundle(tx, b.trustDomain)) throw alreadyExists("bundle already exists");
    await insertBundle(tx, b);
    return b;
  });
}

/** Creates or replaces a bundle inside a write (SetBundle, and bundles carried by federation relationships). */
export async function setBundleTx(tx: Tx, b: Bundle): Promise<Bundle> {
  if (await lockedBundle(tx, b.trustDomain)) await replaceBundle(tx, b);
  else await insertBundle(tx, b);
  return b;
}

export async function setBundle(store: Store, input: Bundle | undefined): Promise<Bundle> {
  const b = requireBundle(input);
  return retryOnInsertRace(() => write(store, (tx) => setBundleTx(tx, b)));
}

export async function appendBundle(store: Store, input: Bundle | undefined): Promise<Bundle> {
  const b = requireBundle(input);
  return retryOnInsertRace(() =>
    write(store, async (tx) => {
      const current = await lockedBundle(tx, b.trustDomain);
      if (!current) {
        await insertBundle(tx, b);
        return b;
      }
      const merged = mergeAuthorities(current, b);
      if (merged === current) return current;
      const next = { ...merged, sequenceNumber: current.sequenceNumber + 1n };
      await replaceBundle(tx, next);
      return next;
    }),
  );
}

/** `current` itself when `extra` adds nothing. */
function mergeAuthorities(current: Bundle, extra: Bundle): Bundle {
  const x509 = [...current.x509Authorities];
  const seenDer = new Set(x509.map((a) => Buffer.from(a.asn1).toString("base64")));
  for (const a of extra.x509Authorities) {
    const k = Buffer.from(a.asn1).toString("base64");
    if (!seenDer.has(k)) {
      seenDer.add(k);
      x509.push(a);
    }
  }
  const jwt = [...current.jwtAuthorities];
  const jwtIds = new Set(jwt.map((k) => k.keyId));
  for (const k of extra.jwtAuthorities) {
    if (!jwtIds.has(k.keyId)) {
      jwtIds.add(k.keyId);
      jwt.push(k);
    }
  }
  const wit = [...current.witAuthorities];
  const witIds = new Set(wit.map((k) => k.keyId));
  for (const k of extra.witAuthorities) {
    if (!witIds.has(k.keyId)) {
      witIds.add(k.keyId);
      wit.push(k);
    }
  }
  if (x509.length === current.x509Authorities.length && jwt.length === current.jwtAuthorities.length && wit.length === current.witAuthorities.length) {
    return current;
  }
  return { ...current, x509Authorities: x509, jwtAuthorities: jwt, witAuthorities: wit };
}

/** Two servers may both find no bundle and both insert; the loser retries as an update. */
async function retryOnInsertRace<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof DataStoreError && e.kind === "already-exists") return run();
    throw e;
  }
}

const allBundleFields: BundleMask = { x509Authorities: true, jwtAuthorities: true, refreshHint: true, sequenceNumber: true, witAuthorities: true };

export async function updateBundle(store: Store, input: Bundle | undefined, mask: BundleMask | undefined, ifSequenceNumber: bigint | undefined): Promise<Bundle> {
  const b = requireBundle(input);
  const m = mask ?? allBundleFields;
  return write(store, async (tx) => {
    const current = await lockedBundle(tx, b.trustDomain);
    if (!current) throw notFound("no such bundle");
    if (ifSequenceNumber !== undefined && current.sequenceNumber !== ifSequenceNumber) {
      throw failedPrecondition(`bundle sequence number is ${current.sequenceNumber}, not ${ifSequenceNumber}`);
    }
    const next: Bundle = {
      trustDomain: current.trustDomain,
      x509Authorities: m.x509Authorities ? b.x509Authorities : current.x509Authorities,
      jwtAuthorities: m.jwtAuthorities ? b.jwtAuthorities : current.jwtAuthorities,
      refreshHint: m.refreshHint ? b.refreshHint : current.refreshHint,
      sequenceNumber: m.sequenceNumber ? b.sequenceNumber : current.sequenceNumber,
      witAuthorities: m.witAuthorities ? b.witAuthorities : current.witAuthorities,
    };
    await replaceBundle(tx, next);
    return next;
  });
}

export async function fetchBundle(store: Store, trustDomain: string): Promise<Bundle> {
  const td = trustDomainName(trustDomain);
  const row = await query(() => store.knex("bundles").where({ trust_domain: td }).first("data"));
  if (!row) throw notFound("no such bundle");
  return decodeBundle(row.data);
}

/** Bundles for several trust domains at once (federation relationships), by trust domain. */
export async function bundlesOf(db: Knex | Knex.Transaction, store: Store, tds: readonly string[]): Promise<Map<string, Bundle>> {
  const out = new Map<string, Bundle>();
  for (const part of chunks(tds, store.dialect.maxInList)) {
    for (const row of await db("bundles").whereIn("trust_domain", part).select("trust_domain", "data")) {
      out.set(row.trust_domain as string, decodeBundle(row.data));
    }
  }
  return out;
}

const listRpc = "ListBundles";

export async function listBundles(store: Store, pageSize: number, token: string): Promise<{ bundles: Bundle[]; nextPageToken: string }> {
  if (pageSize < 0) throw invalid("page size must not be negative");
  const after = resumeAfter(listRpc, token);
  return read(store, async (trx) => {
    const q = trx("bundles").select("trust_domain", "data").orderBy("trust_domain");
    if (after !== undefined) q.where("trust_domain", ">", after);
    if (pageSize > 0) q.limit(pageSize + 1);
    const rows = await q;
    const more = pageSize > 0 && rows.length > pageSize;
    const page = more ? rows.slice(0, pageSize) : rows;
    const bundles = page.map((r) => decodeBundle(r.data));
    return { bundles, nextPageToken: more ? pageToken(listRpc, page[page.length - 1]!.trust_domain as string) : "" };
  });
}

export async function countBundles(store: Store): Promise<number> {
  const row = await query(() => store.knex("bundles").count({ n: "*" }).first());
  return num((row as { n?: unknown } | undefined)?.n);
}

export async function deleteBundle(store: Store, trustDomain: string, mode: DeleteMode): Promise<void> {
  const td = trustDomainName(trustDomain);
  if (mode !== DeleteMode.RESTRICT && mode !== DeleteMode.DELETE && mode !== DeleteMode.DISSOCIATE) {
    throw invalid(`unknown delete mode ${mode as number}`);
  }
  await write(store, async (tx) => {
    if (!(await lockedBundle(tx, td))) throw notFound("no such bundle");
    const ids = (await tx.trx("entry_federates_with").where({ trust_domain: td }).orderBy("entry_id").pluck("entry_id")) as string[];
    if (ids.length > 0) {
      switch (mode) {
        case DeleteMode.RESTRICT:
          throw failedPrecondition(`cannot delete bundle; federated with ${ids.length} registration entries`);
        case DeleteMode.DELETE:
          for (const id of ids) await deleteEntryRows(tx, id);
          break;
        case DeleteMode.DISSOCIATE:
          await tx.trx("entry_federates_with").where({ trust_domain: td }).delete();
          for (const part of chunks(ids, store.dialect.maxInList)) {
            await tx.trx("registered_entries").whereIn("id", part).increment("revision_number", 1);
          }
          for (const id of ids) tx.event(EventKind.ENTRY, EventOp.UPDATED, id);
          break;
      }
    }
    await tx.trx("bundles").where({ trust_domain: td }).delete();
    tx.event(EventKind.BUNDLE, EventOp.DELETED, td);
  });
}

export async function pruneBundle(store: Store, trustDomain: string, expiresBefore: bigint): Promise<{ changed: boolean; bundle: Bundle }> {
  const td = trustDomainName(trustDomain);
  if (expiresBefore === 0n) throw invalid("expiration time is required");
  return write(store, async (tx) => {
    const current = await lockedBundle(tx, td);
    if (!current) throw notFound("no such bundle");
    const pruned = pruneAuthorities(current, expiresBefore);
    if (!pruned) return { changed: false, bundle: current };
    const next = { ...pruned, sequenceNumber: current.sequenceNumber + 1n };
    await replaceBundle(tx, next);
    return { changed: true, bundle: next };
  });
}
