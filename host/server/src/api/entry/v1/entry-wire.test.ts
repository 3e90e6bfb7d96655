import {
  GetAuthorizedEntriesResponse,
  SyncAuthorizedEntriesResponse,
} from "@signet/proto/spire/api/server/entry/v1/entry";
import { Entry, type EntryMask } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { encodeEntry, entryRevisionOf } from "../../../authorizedentries/encoded-entry.js";
import { allTrueEntryMask } from "./convert.js";
import { fieldSetOfMask, type GetAuthorizedReply, serializeGetAuthorizedReply, serializeSyncReply, type SyncReply, withEncodedEntries } from "./entry-wire.js";
import { applyEntryMask } from "./mask.js";

const full: Entry = {
  id: "00000000-1111-2222-3333-444444444444",
  spiffeId: { trustDomain: "example.org", path: "/w/full" },
  parentId: { trustDomain: "example.org", path: "/spire/agent/x509pop/node1" },
  selectors: [
    { type: "k8s", value: "ns:default" },
    { type: "unix", value: "user:jürgen" },
  ],
  x509SvidTtl: 3600,
  federatesWith: ["a.org", "b.org"],
  admin: true,
  downstream: true,
  expiresAt: 1_900_000_000n,
  dnsNames: ["x.example", "y.example"],
  revisionNumber: 300n,
  storeSvid: true,
  jwtSvidTtl: 300,
  hint: "ĥint",
  createdAt: 1_700_000_000n,
  additionalAttributes: { disableX509SvidPrefetch: true, jwtSvidIncludeJti: true },
};
const bare = Entry.fromPartial({ id: "b", spiffeId: { trustDomain: "example.org", path: "/w/b" } });
const negative = { ...full, id: "neg", revisionNumber: -1n, expiresAt: -5n, createdAt: (1n << 62n) + 7n };
const keys = Object.keys(allTrueEntryMask) as (keyof EntryMask)[];

/** Every single-field mask, every all-but-one mask, and a few mixed ones. */
function masks(): (EntryMask | undefined)[] {
  const none = Object.fromEntries(keys.map((k) => [k, false])) as unknown as EntryMask;
  const out: (EntryMask | undefined)[] = [undefined, allTrueEntryMask, none];
  for (const k of keys) {
    out.push({ ...none, [k]: true });
    out.push({ ...allTrueEntryMask, [k]: false });
  }
  for (let seed = 1; seed < 20; seed++) {
    out.push(Object.fromEntries(keys.map((k, i) => [k, ((seed * 2654435761) >>> i) % 3 === 0])) as unknown as EntryMask);
  }
  return out;
}

describe("authorized-entry replies from encoded entries", () => {
  it("copies exactly the bytes the masked message encodes to, for every mask", () => {
    const entries = [full, bare, negative];
    for (const mask of masks()) {
      const reply = serializeGetAuthorizedReply({ entries: [], encoded: { entries: entries.map(encodeEntry), keep: fieldSetOfMask(mask) } });
      const expected = GetAuthorizedEntriesResponse.encode({ entries: entries.map((e) => applyEntryMask(e, mask)) }).finish();
      expect(Buffer.from(reply).equals(Buffer.from(expected)), JSON.stringify(mask)).toBe(true);
    }
  });

  it("frames a sync reply's revisions, entries and more flag as the generated encoder does", () => {
    const mask = { ...allTrueEntryMask, selectors: false, dnsNames: false };
    const encoded = [full, bare].map(encodeEntry);
    const reply = serializeSyncReply({
      entryRevisions: [],
      entries: [],
      more: true,
      encoded: { entries: encoded, keep: fieldSetOfMask(mask) },
    });
    const decoded = SyncAuthorizedEntriesResponse.decode(reply);
    expect(decoded).toEqual({ entryRevisions: [], entries: [full, bare].map((e) => applyEntryMask(e, mask)), more: true });

    const revisions = [full, bare, negative].map((e) => entryRevisionOf(encodeEntry(e)));
    expect(revisions).toEqual([
      { id: full.id, revisionNumber: 300n, createdAt: 1_700_000_000n },
      { id: "b", revisionNumber: 0n, createdAt: 0n },
      { id: "neg", revisionNumber: -1n, createdAt: (1n << 62n) + 7n },
    ]);
    const page = serializeSyncReply({ entryRevisions: revisions, entries: [], more: false });
    expect(Buffer.from(page).equals(Buffer.from(SyncAuthorizedEntriesResponse.encode({ entryRevisions: revisions, entries: [], more: false }).finish()))).toBe(true);
  });

  it("frames entries longer than 127 bytes with a multi-byte length", () => {
    const long = { ...full, id: "long", dnsNames: Array.from({ length: 40 }, (_, i) => `host-${i}.example.org`) };
    const reply = serializeGetAuthorizedReply({ entries: [], encoded: { entries: [encodeEntry(long)], keep: fieldSetOfMask(undefined) } });
    expect(GetAuthorizedEntriesResponse.decode(reply).entries).toEqual([long]);
  });

  it("gives replies a decoded view of their encoded entries, so the generated encoder sends the same bytes", () => {
    const entries = [full, bare, negative].map(encodeEntry);
    for (const mask of masks()) {
      const keep = fieldSetOfMask(mask);
      const get = withEncodedEntries<GetAuthorizedReply>({}, { entries, keep });
      expect(get.entries).toEqual([full, bare, negative].map((e) => applyEntryMask(e, mask)));
      expect(Buffer.from(GetAuthorizedEntriesResponse.encode(get).finish()).equals(serializeGetAuthorizedReply(get))).toBe(true);
      const sync = withEncodedEntries<SyncReply>({ entryRevisions: [], more: true }, { entries, keep });
      expect(Buffer.from(SyncAuthorizedEntriesResponse.encode(sync).finish()).equals(serializeSyncReply(sync))).toBe(true);
    }
    // The custom serializer sends the encoded entries once, not the view as well.
    const one = withEncodedEntries<GetAuthorizedReply>({}, { entries: [encodeEntry(bare)], keep: fieldSetOfMask(undefined) });
    expect(one.entries).toHaveLength(1);
    expect(GetAuthorizedEntriesResponse.decode(serializeGetAuthorizedReply(one)).entries).toEqual([bare]);
  });
});
