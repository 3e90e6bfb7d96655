import { Entry } from "@signet/proto/spire/api/types/entry";

/**
 * An entry as the cache keeps it: the protobuf wire encoding of
 * `spire.api.types.Entry`, one byte per character (latin1). A one-byte string
 * lives in the V8 heap with a 16-byte header and no other object around it,
 * so 100k entries cost their encoded size and little more; it is immutable,
 * so a lookup hands out the stored strings themselves; and it is already
 * what SyncAuthorizedEntries sends, so a reply copies bytes rather than
 * encoding messages (see `entry-wire.ts` in the Entry API).
 *
 * The few fields the index and the sync protocol need (id, SPIFFE ID path,
 * parent path, revision, creation time) are read straight from the bytes.
 */
export type EncodedEntry = string & { readonly __encodedEntry: never };

/** Field numbers of spire.api.types.Entry and spire.api.types.SPIFFEID. */
const field = { id: 1, spiffeId: 2, parentId: 3, revisionNumber: 11, createdAt: 15 } as const;
const spiffeIdPath = 2;

const wireVarint = 0;
const wire64 = 1;
const wireBytes = 2;
const wire32 = 5;

export function encodeEntry(entry: Entry): EncodedEntry {
  return Buffer.from(Entry.encode(entry).finish()).toString("latin1") as EncodedEntry;
}

export function decodeEntry(encoded: EncodedEntry): Entry {
  return Entry.decode(Buffer.from(encoded, "latin1"));
}

export function entryIdOf(encoded: EncodedEntry): string {
  return bytesField(encoded, 0, encoded.length, field.id) ?? "";
}

/** The path of the entry's SPIFFE ID ("" when it has none). */
export function entryPathOf(encoded: EncodedEntry): string {
  return nestedPath(encoded, field.spiffeId);
}

/** The path of the entry's parent ID ("" when it has none). */
export function entryParentPathOf(encoded: EncodedEntry): string {
  return nestedPath(encoded, field.parentId);
}

export interface EntryRevisionInfo {
  readonly id: string;
  readonly revisionNumber: bigint;
  readonly createdAt: bigint;
}

/** What a SyncAuthorizedEntries revision page lists, read in one pass. */
export function entryRevisionOf(encoded: EncodedEntry): EntryRevisionInfo {
  let id = "";
  let revisionNumber = 0n;
  let createdAt = 0n;
  let i = 0;
  const end = encoded.length;
  while (i < end) {
    const tag = varint(encoded, i);
    i = next;
    const type = tag & 7;
    const number = tag >>> 3;
    if (type === wireVarint && (number === field.revisionNumber || number === field.createdAt)) {
      const v = int64(encoded, i);
      i = next;
      if (number === field.revisionNumber) revisionNumber = v;
      else createdAt = v;
    } else if (type === wireBytes && number === field.id) {
      const len = varint(encoded, i);
      id = text(encoded, next, next + len);
      i = next + len;
    } else {
      i = skip(encoded, i, type, end);
    }
  }
  return { id, revisionNumber, createdAt };
}

/**
 * Which top-level fields an output mask keeps, as a bit per field number:
 * spire.api.types.EntryMask numbers its flags like the Entry fields they
 * keep, and the id (field 1) is always kept.
 */
export type FieldSet = number;

/** Every field: no mask. */
export const allFields: FieldSet = 0x7fffffff;

/** The bits for an EntryMask, given as its flags by field number. */
export function fieldSetOf(flags: readonly (readonly [fieldNumber: number, keep: boolean])[]): FieldSet {
  let set = 1 << field.id;
  for (const [n, keep] of flags) if (keep) set |= 1 << n;
  return set;
}

/**
 * The size of the entry's encoding with only the fields in `keep`: exactly
 * what encoding the masked message would give, since fields are written in
 * field-number order and a dropped field is one left at its zero value.
 */
export function maskedEntryLength(encoded: EncodedEntry, keep: FieldSet): number {
  if (keep === allFields) return encoded.length;
  let size = 0;
  forEachField(encoded, (number, start, end) => {
    if (number < 31 && keep & (1 << number)) size += end - start;
  });
  return size;
}

/** Writes the kept fields' bytes at `offset`; returns the offset after them. */
export function writeMaskedEntry(encoded: EncodedEntry, keep: FieldSet, out: Buffer, offset: number): number {
  if (keep === allFields) return offset + out.write(encoded, offset, "latin1");
  let at = offset;
  forEachField(encoded, (number, start, end) => {
    if (number < 31 && keep & (1 << number)) at += out.write(encoded.slice(start, end), at, "latin1");
  });
  return at;
}

/** Each top-level field with the range of its bytes, tag included. */
function forEachField(s: string, visit: (fieldNumber: number, start: number, end: number) => void): void {
  let i = 0;
  const end = s.length;
  while (i < end) {
    const start = i;
    const tag = varint(s, i);
    i = skip(s, next, tag & 7, end);
    visit(tag >>> 3, start, i);
  }
}

function nestedPath(encoded: string, fieldNumber: number): string {
  const outer = bytesRange(encoded, 0, encoded.length, fieldNumber);
  if (outer < 0) return "";
  return bytesField(encoded, outer, next, spiffeIdPath) ?? "";
}

/** The text of a length-delimited field between two offsets, if present. */
function bytesField(s: string, from: number, to: number, fieldNumber: number): string | undefined {
  const start = bytesRange(s, from, to, fieldNumber);
  return start < 0 ? undefined : text(s, start, next);
}

/**
 * Where a length-delimited field's content starts (its end in `next`), or -1.
 * The first occurrence: we encode entries ourselves, each field once.
 * Malformed bytes are a bug here, so they throw rather than being guessed at.
 */
function bytesRange(s: string, from: number, to: number, fieldNumber: number): number {
  let i = from;
  while (i < to) {
    const tag = varint(s, i);
    i = next;
    const type = tag & 7;
    if (type === wireBytes && tag >>> 3 === fieldNumber) {
      const len = varint(s, i);
      const start = next;
      next = start + len;
      if (next > to) throw new Error("encoded entry: field overruns its message");
      return start;
    }
    i = skip(s, i, type, to);
  }
  return -1;
}

/** Offset after a field's value. */
function skip(s: string, at: number, type: number, to: number): number {
  let i: number;
  switch (type) {
    case wireVarint:
      varint64Skip(s, at);
      i = next;
      break;
    case wireBytes:
      i = varint(s, at);
      i += next;
      break;
    case wire64:
      i = at + 8;
      break;
    case wire32:
      i = at + 4;
      break;
    default:
      throw new Error(`encoded entry: unsupported wire type ${type}`);
  }
  if (i > to) throw new Error("encoded entry: truncated");
  return i;
}

/** The offset after the last value read (saves an object per read). */
let next = 0;

/** A varint below 2^28 (tags, lengths). */
function varint(s: string, at: number): number {
  let value = 0;
  let i = at;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = s.charCodeAt(i++);
    if (Number.isNaN(b)) throw new Error("encoded entry: truncated varint");
    value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      next = i;
      return value;
    }
  }
  throw new Error("encoded entry: length or tag too large");
}

function varint64Skip(s: string, at: number): void {
  let i = at;
  for (let n = 0; n < 10; n++) {
    const b = s.charCodeAt(i++);
    if (Number.isNaN(b)) throw new Error("encoded entry: truncated varint");
    if (b < 0x80) {
      next = i;
      return;
    }
  }
  throw new Error("encoded entry: varint too long");
}

/** An int64 varint (two's complement in 64 bits). */
function int64(s: string, at: number): bigint {
  let i = at;
  let small = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = s.charCodeAt(i++);
    if (Number.isNaN(b)) throw new Error("encoded entry: truncated varint");
    small |= (b & 0x7f) << shift;
    if (b < 0x80) {
      next = i;
      return BigInt(small >>> 0);
    }
  }
  let value = BigInt(small >>> 0);
  for (let shift = 28n; shift < 70n; shift += 7n) {
    const b = s.charCodeAt(i++);
    if (Number.isNaN(b)) throw new Error("encoded entry: truncated varint");
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      next = i;
      return BigInt.asIntN(64, value);
    }
  }
  throw new Error("encoded entry: varint too long");
}

/** UTF-8 text between two offsets; ASCII (the usual case) is sliced as is. */
function text(s: string, start: number, end: number): string {
  const part = s.slice(start, end);
  for (let i = 0; i < part.length; i++) {
    if (part.charCodeAt(i) >= 0x80) return Buffer.from(part, "latin1").toString("utf8");
  }
  return part;
}
