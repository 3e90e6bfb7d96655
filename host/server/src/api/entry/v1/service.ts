import { type AsyncService, Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import type { EntryResult } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import {
  type BatchCreateEntryResponse_Result,
  type BatchDeleteEntryResponse_Result,
  type BatchUpdateEntryResponse_Result,
} from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";
import type { TrustDomain } from "@signet/spiffe";
import type { AuthorizedEntries } from "../../../authorizedentries/authorized-entries.js";
import type { EncodedEntry } from "../../../authorizedentries/encoded-entry.js";
import type { DataStore } from "../../../datastore/datastore.js";
import { callerOf } from "../../rpccontext/caller.js";
import { apiError, itemStatus, okStatus } from "../../status.js";
import { EntryInputError, entryFromApi } from "./convert.js";
import { entryServiceDefinition, fieldSetOfMask, type GetAuthorizedReply, withEncodedEntries } from "./entry-wire.js";
import { entryFilterFromApi, FilterError } from "./filter.js";
import { applyEntryMask } from "./mask.js";
import { syncAuthorizedEntries, syncPageSize } from "./sync.js";

/** The DataStore calls the Entry API makes. */
export type EntryDataStore = Pick<
  DataStore,
  "countEntries" | "listEntries" | "fetchEntry" | "createEntries" | "updateEntries" | "deleteEntries"
>;

export interface EntryServiceDeps {
  readonly dataStore: EntryDataStore;
  readonly authorizedEntries: Pick<AuthorizedEntries, "authorizedEntries">;
  readonly trustDomain: TrustDomain;
  /**
   * Most items one Batch* call may carry (default 10 000). SPIRE has no cap
   * of its own and relies on gRPC's 4 MiB message limit; ours keeps one call
   * from occupying the DataStore for minutes. Beyond it the whole call fails
   * with INVALID_ARGUMENT before anything is written.
   */
  readonly maxBatchSize?: number;
  /** Entries per SyncAuthorizedEntries page (SPIRE: 500). */
  readonly syncPageSize?: number;
}

export const defaultMaxBatchSize = 10_000;
/** Items per DataStore write call; large API batches are written in slices of this size. */
const dataStoreSlice = 500;

/** spire.api.server.entry.v1.Entry */
export function entryService(deps: EntryServiceDeps): ServiceRegistration {
  return implement(entryServiceDefinition, entryServiceImpl(deps));
}

/** The handlers, for callers that wrap them (tests, middleware) before `implement()`. */
export function entryServiceImpl(deps: EntryServiceDeps): AsyncService<typeof entryServiceDefinition> {
  const { dataStore: ds, trustDomain: td } = deps;
  const maxBatch = deps.maxBatchSize ?? defaultMaxBatchSize;
  const pageSize = deps.syncPageSize ?? syncPageSize;

  const checkBatchSize = (n: number) => {
    if (n > maxBatch) {
      throw apiError(Code.INVALID_ARGUMENT, `too many items in batch: ${n} (limit ${maxBatch})`);
    }
  };

  const authorizedFor = (ctx: Parameters<typeof callerOf>[0]): readonly EncodedEntry[] => {
    const agentId = callerOf(ctx).agentId;
    if (!agentId) throw apiError(Code.INTERNAL, "caller ID missing from request context");
    return deps.authorizedEntries.authorizedEntries(agentId.toString());
  };

  return {
    async countEntries(req) {
      const filter = filterOrThrow(req.filter, td);
      try {
        const { count } = await ds.countEntries({ filter });
        return { count };
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to count entries", err);
      }
    },

    async listEntries(req) {
      const filter = filterOrThrow(req.filter, td);
      const entries: Entry[] = [];
      let nextPageToken = "";
      try {
        const paged = req.pageSize > 0;
        for await (const page of ds.listEntries({
          filter,
          page: { pageSize: paged ? req.pageSize : 0, pageToken: req.pageToken, maxPages: paged ? 1 : 0 },
        })) {
          for (const e of page.entries) entries.push(applyEntryMask(e, req.outputMask));
          nextPageToken = page.nextPageToken;
        }
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to list entries", err);
      }
      return { entries, nextPageToken: req.pageSize > 0 ? nextPageToken : "" };
    },

    async getEntry(req) {
      if (req.id === "") throw apiError(Code.INVALID_ARGUMENT, "missing ID");
      let entry: Entry | undefined;
      try {
        entry = (await ds.fetchEntry({ id: req.id })).entry;
      } catch (err) {
        if (err instanceof RpcError && err.code === Code.NOT_FOUND) throw apiError(Code.NOT_FOUND, "entry not found");
        throw apiError(Code.INTERNAL, "failed to fetch entry", err);
      }
      if (!entry) throw apiError(Code.NOT_FOUND, "entry not found");
      return applyEntryMask(entry, req.outputMask);
    },

    async batchCreateEntry(req) {
      checkBatchSize(req.entries.length);
      const results: (BatchCreateEntryResponse_Result | undefined)[] = new Array(req.entries.length);
      const valid: { index: number; entry: Entry }[] = [];
      req.entries.forEach((input, index) => {
        try {
          valid.push({ index, entry: entryFromApi(input, td, undefined) });
        } catch (err) {
          results[index] = { status: inputStatus("failed to convert entry", err), entry: undefined };
        }
      });
      await writeInSlices(valid, async (slice) => {
        let dsResults: EntryResult[];
        try {
          dsResults = (await ds.createEntries({ entries: slice.map((v) => v.entry) })).results;
        } catch (err) {
          for (const v of slice) results[v.index] = { status: dsStatus("failed to create entry", err), entry: undefined };
          return;
        }
        slice.forEach((v, i) => {
          results[v.index] = createResult(dsResults[i], req.outputMask);
        });
      });
      return { results: results.map((r) => r ?? missingResult("failed to create entry")) };
    },

    async batchUpdateEntry(req) {
      checkBatchSize(req.entries.length);
      const results: (BatchUpdateEntryResponse_Result | undefined)[] = new Array(req.entries.length);
      const valid: { index: number; entry: Entry }[] = [];
      req.entries.forEach((input, index) => {
        try {
          valid.push({ index, entry: entryFromApi(input, td, req.inputMask) });
        } catch (err) {
          results[index] = { status: inputStatus("failed to convert entry", err), entry: undefined };
        }
      });
      await writeInSlices(valid, async (slice) => {
        let dsResults: EntryResult[];
        try {
          dsResults = (await ds.updateEntries({ entries: slice.map((v) => v.entry), inputMask: req.inputMask })).results;
        } catch (err) {
          for (const v of slice) results[v.index] = { status: dsStatus("failed to update entry", err), entry: undefined };
          return;
        }
        slice.forEach((v, i) => {
          const r = dsResults[i];
          const code = r?.status?.code ?? Code.INTERNAL;
          results[v.index] =
            code === Code.OK && r?.entry
              ? { status: okStatus(), entry: applyEntryMask(r.entry, req.outputMask) }
              : { status: itemDsStatus("failed to update entry", r), entry: undefined };
        });
      });
      return { results: results.map((r) => r ?? missingResult("failed to update entry")) };
    },

    async batchDeleteEntry(req) {
      checkBatchSize(req.ids.length);
      const results: (BatchDeleteEntryResponse_Result | undefined)[] = new Array(req.ids.length);
      const valid: { index: number; id: string }[] = [];
      req.ids.forEach((id, index) => {
        if (id === "") results[index] = { status: itemStatus(Code.INVALID_ARGUMENT, "missing entry ID"), id };
        else valid.push({ index, id });
      });
      await writeInSlices(valid, async (slice) => {
        try {
          const dsResults = (await ds.deleteEntries({ ids: slice.map((v) => v.id) })).results;
          slice.forEach((v, i) => {
            const code = dsResults[i]?.status?.code ?? Code.INTERNAL;
            results[v.index] = {
              id: v.id,
              status:
                code === Code.OK
                  ? okStatus()
                  : code === Code.NOT_FOUND
                    ? itemStatus(Code.NOT_FOUND, "entry not found")
                    : itemStatus(Code.INTERNAL, "failed to delete entry", dsResults[i]?.status?.message ?? "no result"),
            };
          });
        } catch (err) {
          for (const v of slice) {
            results[v.index] = { id: v.id, status: itemStatus(Code.INTERNAL, "failed to delete entry", err) };
          }
        }
      });
      return {
        results: results.map(
          (r, i) => r ?? { id: req.ids[i] ?? "", status: missingResult("failed to delete entry").status },
        ),
      };
    },

    async getAuthorizedEntries(req, ctx) {
      const entries = authorizedFor(ctx);
      return withEncodedEntries<GetAuthorizedReply>({}, { entries, keep: fieldSetOfMask(req.outputMask) });
    },

    async *syncAuthorizedEntries(requests, ctx) {
      const entries = authorizedFor(ctx);
      yield* syncAuthorizedEntries(requests, entries, pageSize);
    },
  };
}

function filterOrThrow(filter: Parameters<typeof entryFilterFromApi>[0], td: TrustDomain) {
  try {
    return entryFilterFromApi(filter, td);
  } catch (err) {
    if (err instanceof FilterError) throw apiError(Code.INVALID_ARGUMENT, err.message);
    throw err;
  }
}

/** SPIRE keeps the DataStore's code for writes (an unknown one becomes Internal). */
function dsStatus(message: string, err: unknown) {
  const code = err instanceof RpcError && err.code !== Code.UNKNOWN && err.code !== Code.OK ? err.code : Code.INTERNAL;
  return itemStatus(code, message, err);
}

function itemDsStatus(message: string, result: EntryResult | undefined) {
  const code = result?.status?.code;
  if (code === undefined || code === Code.OK || code === Code.UNKNOWN) {
    return itemStatus(Code.INTERNAL, message, result?.status?.message || "datastore returned no entry");
  }
  return itemStatus(code, message, result?.status?.message ?? "");
}

function createResult(r: EntryResult | undefined, mask: EntryMask | undefined): BatchCreateEntryResponse_Result {
  const code = r?.status?.code ?? Code.INTERNAL;
  if (code === Code.OK && r?.entry) return { status: okStatus(), entry: applyEntryMask(r.entry, mask) };
  // A duplicate of an existing entry (same SPIFFE ID, parent and selectors) comes back with that entry.
  if (code === Code.ALREADY_EXISTS && r?.entry) {
    return { status: itemStatus(Code.ALREADY_EXISTS, "similar entry already exists"), entry: applyEntryMask(r.entry, mask) };
  }
  return { status: itemDsStatus("failed to create entry", r), entry: undefined };
}

function inputStatus(message: string, err: unknown) {
  if (err instanceof EntryInputError) return itemStatus(Code.INVALID_ARGUMENT, message, err.message);
  return itemStatus(Code.INTERNAL, message, err);
}

function missingResult(message: string) {
  return { status: itemStatus(Code.INTERNAL, message, "datastore returned no result for the item"), entry: undefined };
}

async function writeInSlices<T>(items: readonly T[], write: (slice: readonly T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += dataStoreSlice) await write(items.slice(i, i + dataStoreSlice));
}
