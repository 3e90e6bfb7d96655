import { Code, RpcError } from "@signet/proto";
import type { SyncAuthorizedEntriesRequest } from "@signet/proto/spire/api/server/entry/v1/entry";
import {
  type EncodedEntry,
  type EntryRevisionInfo,
  entryRevisionOf,
} from "../../../authorizedentries/encoded-entry.js";
import { fieldSetOfMask, type SyncReply, withEncodedEntries } from "./entry-wire.js";

/** SPIRE's page size for SyncAuthorizedEntries; stock agents infer it from the first revision page. */
export const syncPageSize = 500;

/**
 * The server side of SyncAuthorizedEntries, as SPIRE choreographs it:
 *
 * 1. read the first request: it must carry no ids, and a mask present on it
 *    must keep revision_number; that mask applies to the whole stream;
 * 2. up to `pageSize` entries: one response with them all (even none), done;
 * 3. otherwise revision pages (id, revision_number, created_at) of
 *    `pageSize`, `more` on all but the last;
 * 4. then each later request names ids; the reply is the matching entries in
 *    pages of `pageSize` (`more` on all but the last page of that reply),
 *    unknown ids skipped, an empty reply still sent;
 * 5. the client's half-close ends the stream normally.
 *
 * `entries` is the caller's authorized set, read once at the start; replies
 * carry them encoded, masked as they are copied (entry-wire.ts).
 */
export async function* syncAuthorizedEntries(
  requests: AsyncIterable<SyncAuthorizedEntriesRequest>,
  entries: readonly EncodedEntry[],
  pageSize = syncPageSize,
): AsyncGenerator<SyncReply> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const initial = first.value;
  if (initial.ids.length > 0) {
    throw new RpcError(Code.INVALID_ARGUMENT, "specifying IDs on initial request is not supported");
  }
  const mask = initial.outputMask;
  if (mask && !mask.revisionNumber) throw new RpcError(Code.INVALID_ARGUMENT, "revision number cannot be masked");
  const keep = fieldSetOfMask(mask);
  const reply = (page: readonly EncodedEntry[], more: boolean): SyncReply =>
    withEncodedEntries<SyncReply>({ entryRevisions: [], more }, { entries: page, keep });

  if (entries.length <= pageSize) {
    yield reply(entries, false);
    return;
  }

  const revisions = entries.map(entryRevisionOf);
  for (let i = 0; i < entries.length; i += pageSize) {
    yield {
      entryRevisions: revisions.slice(i, i + pageSize),
      entries: [],
      more: i + pageSize < entries.length,
    };
  }

  let byId: Map<string, EncodedEntry> | undefined;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    byId ??= new Map(entries.map((e, i) => [(revisions[i] as EntryRevisionInfo).id, e]));
    const wanted = [...next.value.ids].sort();
    let page: EncodedEntry[] = [];
    let previous: string | undefined;
    for (const id of wanted) {
      if (id === previous) continue;
      previous = id;
      const entry = byId.get(id);
      if (!entry) continue;
      if (page.length === pageSize) {
        yield reply(page, true);
        page = [];
      }
      page.push(entry);
    }
    yield reply(page, false);
  }
}
