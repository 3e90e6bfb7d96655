/**
 * The gRPC edge: DataStore requests in, domain calls, responses or statuses
 * out. Batch RPCs answer one status per item; every other failure goes
 * through toRpcError, the one place errors become codes.
 */
import type { AsyncService } from "@signet/proto";
import type { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Status } from "@signet/proto/spire/api/types/status";
import { classify, codeOf, toRpcError } from "./errors.js";
import { type Store } from "./store.js";
import { type EventFeed } from "./feed.js";
import { SimilarEntryError, createEntry, deleteEntry, fetchEntries, fetchEntry, pruneEntries, updateEntry } from "./entries.js";
import { countEntries, listEntries } from "./entry-queries.js";
import * as nodes from "./nodes.js";
import * as tokens from "./join-tokens.js";
import * as bundles from "./bundles.js";
import * as federation from "./federation.js";
import * as journal from "./ca-journal.js";

export type DataStoreImpl = AsyncService<typeof DataStoreService>;

const ok: Status = { code: 0, message: "" };

function statusOf(e: unknown): Status {
  const d = classify(e);
  return { code: codeOf(d.kind), message: `datastore-sql: ${d.message}` };
}

/** Runs a unary handler body, mapping any failure at the edge. */
async function edge<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw toRpcError(e);
  }
}

/** Same for streams: failures before or between messages become the stream's status. */
async function* edgeStream<T>(body: () => AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* body();
  } catch (e) {
    throw toRpcError(e);
  }
}

export function dataStoreService(store: Store, feed: EventFeed, now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000))): DataStoreImpl {
  return {
    // ---- entries
    async createEntries(req) {
      const results = [];
      for (const entry of req.entries) {
        try {
          results.push({ status: ok, entry: await createEntry(store, entry, now) });
        } catch (e) {
          results.push({ status: statusOf(e), entry: e instanceof SimilarEntryError ? e.existing : undefined });
        }
      }
      return { results };
    },
    async updateEntries(req) {
      const results = [];
      for (const entry of req.entries) {
        try {
          results.push({ status: ok, entry: await updateEntry(store, entry, req.inputMask) });
        } catch (e) {
          results.push({ status: statusOf(e), entry: undefined });
        }
      }
      return { results };
    },
    async deleteEntries(req) {
      const results = [];
      for (const id of req.ids) {
        try {
          results.push({ status: ok, id, entry: await deleteEntry(store, id) });
        } catch (e) {
          results.push({ status: statusOf(e), id, entry: undefined });
        }
      }
      return { results };
    },
    fetchEntry: (req) => edge(async () => ({ entry: await fetchEntry(store, req.id) })),
    fetchEntries: (req) => edge(async () => ({ entries: await fetchEntries(store, req.ids) })),
    listEntries: (req) => edgeStream(() => listEntries(store, req.filter, req.page)),
    countEntries: (req) => edge(async () => ({ count: await countEntries(store, req.filter) })),
    pruneEntries: (req) => edge(async () => ({ count: await pruneEntries(store, req.expiresBefore) })),

    // ---- attested nodes and node selectors
    createAttestedNode: (req) => edge(async () => ({ node: await nodes.createAttestedNode(store, req.node) })),
    fetchAttestedNode: (req) => edge(async () => ({ node: await nodes.fetchAttestedNode(store, req.spiffeId) })),
    fetchAttestedNodes: (req) => edge(async () => ({ nodes: await nodes.fetchAttestedNodes(store, req.spiffeIds) })),
    listAttestedNodes: (req) => edgeStream(() => nodes.listAttestedNodes(store, req.filter, req.page, req.fetchSelectors)),
    countAttestedNodes: (req) => edge(async () => ({ count: await nodes.countAttestedNodes(store, req.filter) })),
    updateAttestedNode: (req) => edge(async () => ({ node: await nodes.updateAttestedNode(store, req.node, req.inputMask) })),
    deleteAttestedNode: (req) => edge(async () => ({ node: await nodes.deleteAttestedNode(store, req.spiffeId) })),
    pruneAttestedNodes: (req) =>
      edge(async () => ({ count: await nodes.pruneAttestedNodes(store, req.expiredBefore, req.includeNonReattestable) })),
    setNodeSelectors: (req) =>
      edge(async () => {
        await nodes.setNodeSelectors(store, req.spiffeId, req.selectors);
        return {};
      }),
    getNodeSelectors: (req) => edge(async () => ({ selectors: await nodes.getNodeSelectors(store, req.spiffeId) })),

    // ---- join tokens
    createJoinToken: (req) =>
      edge(async () => {
        await tokens.createJoinToken(store, req.token);
        return {};
      }),
    fetchJoinToken: (req) => edge(async () => ({ token: await tokens.fetchJoinToken(store, req.value) })),
    deleteJoinToken: (req) => edge(async () => ({ token: await tokens.deleteJoinToken(store, req.value) })),
    pruneJoinTokens: (req) => edge(async () => ({ count: await tokens.pruneJoinTokens(store, req.expiresBefore) })),

    // ---- bundles
    createBundle: (req) => edge(async () => ({ bundle: await bundles.createBundle(store, req.bundle) })),
    appendBundle: (req) => edge(async () => ({ bundle: await bundles.appendBundle(store, req.bundle) })),
    setBundle: (req) => edge(async () => ({ bundle: await bundles.setBundle(store, req.bundle) })),
    updateBundle: (req) =>
      edge(async () => ({ bundle: await bundles.updateBundle(store, req.bundle, req.inputMask, req.ifSequenceNumber) })),
    fetchBundle: (req) => edge(async () => ({ bundle: await bundles.fetchBundle(store, req.trustDomain) })),
    listBundles: (req) => edge(() => bundles.listBundles(store, req.pageSize, req.pageToken)),
    countBundles: () => edge(async () => ({ count: await bundles.countBundles(store) })),
    deleteBundle: (req) =>
      edge(async () => {
        await bundles.deleteBundle(store, req.trustDomain, req.mode);
        return {};
      }),
    pruneBundle: (req) => edge(() => bundles.pruneBundle(store, req.trustDomain, req.expiresBefore)),

    // ---- federation relationships
    createFederationRelationship: (req) =>
      edge(async () => ({ federationRelationship: await federation.createFederationRelationship(store, req.federationRelationship) })),
    fetchFederationRelationship: (req) =>
      edge(async () => ({ federationRelationship: await federation.fetchFederationRelationship(store, req.trustDomain) })),
    listFederationRelationships: (req) => edge(() => federation.listFederationRelationships(store, req.pageSize, req.pageToken)),
    updateFederationRelationship: (req) =>
      edge(async () => ({
        federationRelationship: await federation.updateFederationRelationship(store, req.federationRelationship, req.inputMask),
      })),
    deleteFederationRelationship: (req) =>
      edge(async () => {
        await federation.deleteFederationRelationship(store, req.trustDomain);
        return {};
      }),

    // ---- CA journal
    setCaJournal: (req) => edge(async () => ({ caJournal: await journal.setCAJournal(store, req.caJournal) })),
    fetchCaJournal: (req) => edge(async () => ({ caJournal: await journal.fetchCAJournal(store, req.activeX509AuthorityId) })),
    pruneCaJournals: (req) => edge(async () => ({ count: await journal.pruneCAJournals(store, req.expiresBefore) })),

    // ---- change feed
    streamEvents: (req, ctx) => edgeStream(() => feed.stream(req.afterEventId, req.kinds, ctx.signal)),
    getLatestEventId: () => edge(() => feed.latest()),
    pruneEvents: (req) => edge(async () => ({ prunedThroughEventId: await feed.prune(req.olderThanSeconds) })),
  };
}
