/**
 * The client half of Entry/SyncAuthorizedEntries, as SPIRE's agent drives
 * it (spire-apis.md 4.4 a): a first reply without revisions is the whole
 * list; otherwise revision pages follow while `more`, the page size is the
 * length of the first page, and the entries that are new, changed (revision
 * or created_at) are asked for by id, sorted, in chunks of that size.
 * Entries not listed are gone. Anything out of order is a protocol error.
 */
import { type AsyncClient, Code, RpcError } from "@signet/proto";
import type { EntryService, SyncAuthorizedEntriesResponse } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";

/** The fields a stock agent asks for (parent_id, TTLs, dns_names and expires_at are not). */
export const agentEntryMask: EntryMask = {
  spiffeId: true,
  parentId: false,
  selectors: true,
  x509SvidTtl: false,
  federatesWith: true,
  admin: true,
  downstream: true,
  expiresAt: false,
  dnsNames: false,
  revisionNumber: true,
  storeSvid: true,
  jwtSvidTtl: false,
  hint: true,
  createdAt: true,
  additionalAttributes: true,
};

export async function syncAuthorizedEntries(
  client: AsyncClient<typeof EntryService>,
  cached: ReadonlyMap<string, Entry>,
  timeoutMs: number,
): Promise<Entry[]> {
  const call = client.syncAuthorizedEntries({ deadline: timeoutMs });
  const replies = call[Symbol.asyncIterator]();
  const next = async (): Promise<SyncAuthorizedEntriesResponse> => {
    const r = await replies.next();
    if (r.done) throw new RpcError(Code.INTERNAL, "sync stream ended early");
    return r.value;
  };
  try {
    call.send({ outputMask: agentEntryMask, ids: [] });
    const first = await next();
    if (first.entryRevisions.length === 0) {
      call.end();
      await drain(replies);
      // Unchanged entries keep their cached objects, so the cache sees no change and wakes nobody.
      return first.entries.map((e) => {
        const have = cached.get(e.id);
        return have && have.revisionNumber === e.revisionNumber && have.createdAt === e.createdAt ? have : e;
      });
    }
    if (first.entries.length > 0) throw protocolError("entries in a revision page");

    const pageSize = first.entryRevisions.length;
    const listed: string[] = [];
    const needed: string[] = [];
    let page: SyncAuthorizedEntriesResponse = first;
    for (;;) {
      for (const rev of page.entryRevisions) {
        listed.push(rev.id);
        const have = cached.get(rev.id);
        if (!have || have.revisionNumber !== rev.revisionNumber || (rev.createdAt !== 0n && have.createdAt !== rev.createdAt)) {
          needed.push(rev.id);
        }
      }
      if (!page.more) break;
      page = await next();
      if (page.entries.length > 0) throw protocolError("entries in a revision page");
    }

    const fetched = new Map<string, Entry>();
    needed.sort();
    for (let i = 0; i < needed.length; i += pageSize) {
      call.send({ outputMask: undefined, ids: needed.slice(i, i + pageSize) });
      for (;;) {
        const reply = await next();
        if (reply.entryRevisions.length > 0) throw protocolError("revisions in an entries page");
        for (const e of reply.entries) fetched.set(e.id, e);
        if (!reply.more) break;
      }
    }
    call.end();
    await drain(replies);

    const out: Entry[] = [];
    for (const id of listed) {
      const entry = fetched.get(id) ?? cached.get(id);
      if (entry) out.push(entry);
    }
    return out;
  } catch (e) {
    call.cancel();
    throw e;
  }
}

async function drain(replies: AsyncIterator<SyncAuthorizedEntriesResponse>): Promise<void> {
  for (;;) {
    const r = await replies.next();
    if (r.done) return;
    throw protocolError("unexpected reply after the last page");
  }
}

function protocolError(what: string): RpcError {
  return new RpcError(Code.INTERNAL, `sync protocol error: ${what}`);
}
