/**
 * The CA's stores over the DataStore plugin: the CA journal (SetCAJournal /
 * FetchCAJournal / PruneCAJournals) and the local bundle (AppendBundle, and
 * UpdateBundle guarded by if_sequence_number for read-modify-write changes).
 */
import { Code, RpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { TrustDomain } from "@signet/spiffe";
import type { DataStore } from "../datastore/datastore.js";
import { type BundleStore, emptyBundle } from "./bundle.js";
import type { JournalStore, StoredJournal } from "./journal.js";

/** How often a compare-and-set update is retried when another writer got there first. */
const casAttempts = 8;

export function dataStoreJournalStore(ds: DataStore): JournalStore {
  return {
    async fetch(authorityId) {
      try {
        const res = await ds.fetchCaJournal({ activeX509AuthorityId: authorityId });
        const j = res.caJournal;
        return j ? { id: j.id, activeX509AuthorityId: j.activeX509AuthorityId, data: j.data, expiresAt: Number(j.expiresAt) } : undefined;
      } catch (e) {
        if (e instanceof RpcError && e.code === Code.NOT_FOUND) return undefined;
        throw e;
      }
    },
    async save(journal: StoredJournal) {
      const res = await ds.setCaJournal({
        caJournal: { id: journal.id, activeX509AuthorityId: journal.activeX509AuthorityId, data: journal.data, expiresAt: BigInt(journal.expiresAt) },
      });
      if (!res.caJournal) throw new Error("datastore answered SetCAJournal without the stored journal");
      return res.caJournal.id;
    },
    async prune(expiresBefore) {
      const res = await ds.pruneCaJournals({ expiresBefore: BigInt(Math.floor(expiresBefore.getTime() / 1000)) });
      return res.count;
    },
  };
}

export function dataStoreBundleStore(ds: DataStore, trustDomain: TrustDomain): BundleStore {
  const name = trustDomain.name;
  async function fetch(): Promise<Bundle | undefined> {
    try {
      return (await ds.fetchBundle({ trustDomain: name })).bundle;
    } catch (e) {
      if (e instanceof RpcError && e.code === Code.NOT_FOUND) return undefined;
      throw e;
    }
  }
  return {
    fetch,
    async append({ x509 = [], jwt = [] }) {
      const res = await ds.appendBundle({
        bundle: { ...emptyBundle(name), x509Authorities: x509.map((asn1) => ({ asn1, tainted: false })), jwtAuthorities: [...jwt] },
      });
      if (!res.bundle) throw new Error("datastore answered AppendBundle without the stored bundle");
      return res.bundle;
    },
    async update(change) {
      for (let attempt = 1; ; attempt++) {
        const current = (await fetch()) ?? emptyBundle(name);
        const next = change(current);
        try {
          const res = await ds.updateBundle({
            bundle: { ...current, ...next, sequenceNumber: current.sequenceNumber + 1n },
            inputMask: { x509Authorities: true, jwtAuthorities: true, sequenceNumber: true, refreshHint: false, witAuthorities: false },
            ifSequenceNumber: current.sequenceNumber,
          });
          if (!res.bundle) throw new Error("datastore answered UpdateBundle without the stored bundle");
          return res.bundle;
        } catch (e) {
          const raced = e instanceof RpcError && e.code === Code.FAILED_PRECONDITION;
          if (!raced || attempt >= casAttempts) throw e;
        }
      }
    },
    async prune(expiresBefore) {
      const res = await ds.pruneBundle({ trustDomain: name, expiresBefore: BigInt(Math.floor(expiresBefore.getTime() / 1000)) });
      return res.changed;
    },
  };
}
