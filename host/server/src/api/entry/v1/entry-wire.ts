import { BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  EntryRevision,
  EntryService,
  GetAuthorizedEntriesResponse,
  SyncAuthorizedEntriesResponse,
} from "@signet/proto/spire/api/server/entry/v1/entry";
import { Entry, type EntryMask } from "@signet/proto/spire/api/types/entry";
import {
  allFields,
  type EncodedEntry,
  type FieldSet,
  fieldSetOf,
  maskedEntryLength,
  writeMaskedEntry,
} from "../../../authorizedentries/encoded-entry.js";

/**
 * The authorized-entries replies straight from the cache's encoded entries:
 * each entry's bytes are copied into the reply, keeping only the fields the
 * output mask keeps, instead of decoding 10k messages, masking them and
 * encoding them again. The bytes are exactly those the masked messages would
 * encode to, so clients see no difference (the tests decode every reply with
 * the generated decoders).
 */
export interface EncodedEntries {
  readonly entries: readonly EncodedEntry[];
  readonly keep: FieldSet;
}

/**
 * A SyncAuthorizedEntriesResponse whose entries may come encoded. When
 * `encoded` is present, `entries` is only a view of it (see `withEncodedEntries`)
 * and the serializer below sends the encoded ones.
 */
export type SyncReply = SyncAuthorizedEntriesResponse & { readonly encoded?: EncodedEntries };

/** A GetAuthorizedEntriesResponse whose entries may come encoded (as for SyncReply). */
export type GetAuthorizedReply = GetAuthorizedEntriesResponse & { readonly encoded?: EncodedEntries };

/**
 * `reply` with entries that come encoded. Its `entries` decodes them (masked)
 * on first read: a serializer that knows nothing of `encoded` (the generated
 * EntryService definition, should the service ever be hosted with it rather
 * than `entryServiceDefinition`) then still sends every entry instead of
 * silently sending none, only more slowly. `entryServiceDefinition` never
 * reads it.
 */
export function withEncodedEntries<T extends { entries: Entry[] }>(
  reply: Omit<T, "entries">,
  encoded: EncodedEntries,
): T & { readonly encoded: EncodedEntries } {
  let decoded: Entry[] | undefined;
  const out = { ...reply, encoded } as T & { encoded: EncodedEntries };
  Object.defineProperty(out, "entries", {
    enumerable: true,
    configurable: true,
    get: () => (decoded ??= decodeMaskedEntries(encoded)),
    set: (value: Entry[]) => {
      decoded = value;
    },
  });
  return out;
}

/** The entries as a client decodes them from the reply. */
export function decodeMaskedEntries(encoded: EncodedEntries): Entry[] {
  return encoded.entries.map((e) => {
    const bytes = Buffer.allocUnsafe(maskedEntryLength(e, encoded.keep));
    writeMaskedEntry(e, encoded.keep, bytes, 0);
    return Entry.decode(bytes);
  });
}

/** The fields an EntryMask keeps; no mask keeps them all. */
export function fieldSetOfMask(mask: EntryMask | undefined): FieldSet {
  if (!mask) return allFields;
  return fieldSetOf([
    [2, mask.spiffeId],
    [3, mask.parentId],
    [4, mask.selectors],
    [5, mask.x509SvidTtl],
    [6, mask.federatesWith],
    [7, mask.admin],
    [8, mask.downstream],
    [9, mask.expiresAt],
    [10, mask.dnsNames],
    [11, mask.revisionNumber],
    [12, mask.storeSvid],
    [13, mask.jwtSvidTtl],
    [14, mask.hint],
    [15, mask.createdAt],
    [16, mask.additionalAttributes],
  ]);
}

/** Field numbers in the two responses. */
const sync = { revisions: 1, entries: 2, more: 3 } as const;
const getAuthorized = { entries: 1 } as const;
const wireBytes = 2;
const wireVarint = 0;

export function serializeSyncReply(reply: SyncReply): Buffer {
  const w = new BinaryWriter();
  for (const r of reply.entryRevisions) EntryRevision.encode(r, w.uint32(tag(sync.revisions, wireBytes)).fork()).join();
  if (!reply.encoded) for (const e of reply.entries) Entry.encode(e, w.uint32(tag(sync.entries, wireBytes)).fork()).join();
  const tail = reply.more ? [tag(sync.more, wireVarint), 1] : [];
  return framed(w.finish(), sync.entries, reply.encoded, tail);
}

export function serializeGetAuthorizedReply(reply: GetAuthorizedReply): Buffer {
  const w = new BinaryWriter();
  if (!reply.encoded) for (const e of reply.entries) Entry.encode(e, w.uint32(tag(getAuthorized.entries, wireBytes)).fork()).join();
  return framed(w.finish(), getAuthorized.entries, reply.encoded, []);
}

/** `head`, then each encoded entry as a length-delimited field, then `tail`. */
function framed(head: Uint8Array, fieldNumber: number, encoded: EncodedEntries | undefined, tail: readonly number[]): Buffer {
  const list = encoded?.entries ?? [];
  const keep = encoded?.keep ?? allFields;
  const lengths = new Array<number>(list.length);
  let size = head.length + tail.length;
  for (let i = 0; i < list.length; i++) {
    const len = maskedEntryLength(list[i] as EncodedEntry, keep);
    lengths[i] = len;
    size += 1 + varintSize(len) + len;
  }
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  const fieldTag = tag(fieldNumber, wireBytes);
  for (let i = 0; i < list.length; i++) {
    out[at++] = fieldTag;
    at = writeVarint(out, at, lengths[i] as number);
    at = writeMaskedEntry(list[i] as EncodedEntry, keep, out, at);
  }
  for (const b of tail) out[at++] = b;
  if (at !== size) throw new Error(`entry reply: wrote ${at} of ${size} bytes`);
  return out;
}

/** A one-byte tag (field numbers below 16). */
function tag(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v >>>= 7) size++;
  return size;
}

function writeVarint(out: Buffer, offset: number, n: number): number {
  let at = offset;
  let v = n;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}

/**
 * The Entry service's definition with those two replies serialized from
 * encoded entries. Clients keep the generated definition: the bytes are the same.
 */
export const entryServiceDefinition = {
  ...EntryService,
  getAuthorizedEntries: {
    ...EntryService.getAuthorizedEntries,
    responseSerialize: serializeGetAuthorizedReply,
    responseDeserialize: EntryService.getAuthorizedEntries.responseDeserialize as (value: Buffer) => GetAuthorizedReply,
  },
  syncAuthorizedEntries: {
    ...EntryService.syncAuthorizedEntries,
    responseSerialize: serializeSyncReply,
    responseDeserialize: EntryService.syncAuthorizedEntries.responseDeserialize as (value: Buffer) => SyncReply,
  },
} as const;
