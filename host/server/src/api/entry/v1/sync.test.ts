import { type SyncAuthorizedEntriesRequest, SyncAuthorizedEntriesResponse } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { encodeEntry } from "../../../authorizedentries/encoded-entry.js";
import { allTrueEntryMask } from "./convert.js";
import { serializeSyncReply } from "./entry-wire.js";
import { syncAuthorizedEntries } from "./sync.js";

function entries(n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `e${String(i).padStart(5, "0")}`,
    spiffeId: { trustDomain: "example.org", path: `/w/${i}` },
    parentId: { trustDomain: "example.org", path: "/agent" },
    selectors: [{ type: "unix", value: `uid:${i}` }],
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: BigInt(i % 3),
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 100n,
  }));
}

/**
 * Drives the generator like a client: sends each request after reading the
 * previous reply in full. Each reply goes through its wire encoding and the
 * generated decoder, as a client sees it.
 */
async function converse(all: Entry[], requests: SyncAuthorizedEntriesRequest[], pageSize = 3) {
  const queue = [...requests];
  const replies: SyncAuthorizedEntriesResponse[] = [];
  const source: AsyncIterable<SyncAuthorizedEntriesRequest> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const value = queue.shift();
        return value ? { value, done: false } : { value: undefined, done: true };
      },
    }),
  };
  for await (const r of syncAuthorizedEntries(source, all.map(encodeEntry), pageSize)) {
    replies.push(SyncAuthorizedEntriesResponse.decode(serializeSyncReply(r)));
  }
  return replies;
}

const req = (ids: string[] = [], outputMask?: EntryMask): SyncAuthorizedEntriesRequest => ({ ids, outputMask });

describe("syncAuthorizedEntries", () => {
  it("sends everything in one response when it fits one page, even nothing", async () => {
    expect(await converse([], [req()])).toEqual([{ entryRevisions: [], entries: [], more: false }]);
    const r = await converse(entries(3), [req()]);
    expect(r).toHaveLength(1);
    expect(r[0]?.entries.map((e) => e.id)).toEqual(["e00000", "e00001", "e00002"]);
  });

  it("pages revisions, then answers each id request in pages, skipping unknown ids", async () => {
    const all = entries(7);
    const r = await converse(all, [req(), req(["e00006", "nope", "e00001", "e00002", "e00003", "e00004"]), req([])]);
    expect(r.slice(0, 3).map((p) => [p.entryRevisions.length, p.more])).toEqual([
      [3, true],
      [3, true],
      [1, false],
    ]);
    expect(r[0]?.entryRevisions[1]).toEqual({ id: "e00001", revisionNumber: 1n, createdAt: 100n });
    expect(r.slice(3, 5).map((p) => [p.entries.map((e) => e.id), p.more])).toEqual([
      [["e00001", "e00002", "e00003"], true],
      [["e00004", "e00006"], false],
    ]);
    expect(r[5]).toEqual({ entryRevisions: [], entries: [], more: false });
    expect(r).toHaveLength(6);
  });

  it("applies the first request's mask to every entry sent", async () => {
    const mask = { ...allTrueEntryMask, selectors: false };
    const r = await converse(entries(4), [req([], mask), req(["e00000"], { ...allTrueEntryMask })]);
    expect(r.at(-1)?.entries[0]?.selectors).toEqual([]);
    expect(r.at(-1)?.entries[0]?.spiffeId).toBeDefined();
  });

  it("refuses ids on the first request and a mask without revision_number", async () => {
    await expect(converse(entries(1), [req(["a"])])).rejects.toMatchObject({
      code: 3,
      message: "specifying IDs on initial request is not supported",
    });
    await expect(converse(entries(1), [req([], { ...allTrueEntryMask, revisionNumber: false })])).rejects.toMatchObject({
      code: 3,
      message: "revision number cannot be masked",
    });
  });

  it("ends quietly when the client closes without a request", async () => {
    expect(await converse(entries(1), [])).toEqual([]);
  });
});
