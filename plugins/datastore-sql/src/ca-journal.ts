/**
 * CA journals: opaque bytes per server, found by the X.509 authority the
 * server currently signs with. Not part of the change feed.
 */
import type { CAJournal } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { invalid, notFound } from "./errors.js";
import { type Store, big, bytes, dbBig, num, query, write } from "./store.js";

export async function setCAJournal(store: Store, journal: CAJournal | undefined): Promise<CAJournal> {
  if (!journal) throw invalid("missing CA journal");
  if (journal.activeX509AuthorityId === "") throw invalid("active X509 authority ID is required");
  if (journal.activeX509AuthorityId.length > 255) throw invalid("active X509 authority ID is longer than 255 characters");
  const row = {
    active_x509_authority_id: journal.activeX509AuthorityId,
    data: Buffer.from(journal.data),
    expires_at: dbBig(journal.expiresAt),
  };
  return write(store, async (tx) => {
    if (journal.id === 0n) {
      const inserted = await tx.trx("ca_journals").insert(row, ["id"]);
      const first = inserted[0] as unknown;
      const id = typeof first === "object" && first !== null ? (first as { id: unknown }).id : first;
      return { ...journal, id: big(id) };
    }
    const updated = await tx.trx("ca_journals").where({ id: dbBig(journal.id) }).update(row);
    if (num(updated) === 0) {
      // MySQL counts changed rows only: a rewrite with identical content reports 0.
      const exists = await tx.trx("ca_journals").where({ id: dbBig(journal.id) }).first("id");
      if (!exists) throw notFound("no such CA journal");
    }
    return journal;
  });
}

export async function fetchCAJournal(store: Store, activeX509AuthorityId: string): Promise<CAJournal> {
  if (activeX509AuthorityId === "") throw invalid("active X509 authority ID is required");
  const row = await query(() =>
    store.knex("ca_journals").where({ active_x509_authority_id: activeX509AuthorityId }).orderBy("id", "desc").first("*"),
  );
  if (!row) throw notFound("no such CA journal");
  return { id: big(row.id), activeX509AuthorityId: row.active_x509_authority_id as string, data: bytes(row.data), expiresAt: big(row.expires_at) };
}

export async function pruneCAJournals(store: Store, expiresBefore: bigint): Promise<number> {
  return num(await query(() => store.knex("ca_journals").where("expires_at", "<", dbBig(expiresBefore)).delete()));
}
