/**
 * A small DER writer and a strict, bounded DER reader: just what X.509 certificates and PKCS#10
 * requests need. The writer builds each element once from Buffers; the reader never recurses and
 * never copies (every element it returns is a view into the input).
 */

// ---------------------------------------------------------------------------------------------
// Tags (universal class unless noted)
// ---------------------------------------------------------------------------------------------

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Context-specific tag byte: constructed for EXPLICIT tagging or implicitly tagged constructed types. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x82, length >> 8, length & 0xff]);
  if (length < 0x1000000) return Buffer.from([0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  throw new RangeError(`DER element too long: ${length} bytes`);
}

/** One TLV: tag byte, minimal definite length, contents. */
export function tlv(tag: number, contents: Buffer): Buffer {
  const len = contents.length;
  if (len < 0x80) {
    const out = Buffer.allocUnsafe(2 + len);
    out[0] = tag;
    out[1] = len;
    contents.copy(out, 2);
    return out;
  }
  return Buffer.concat([Buffer.from([tag]), lengthBytes(len), contents]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(Tag.sequence, items.length === 1 ? items[0]! : Buffer.concat(items));
}

/** A SET OF, with its members sorted as DER requires. */
export function set(...items: Buffer[]): Buffer {
  const sorted = items.length > 1 ? [...items].sort(Buffer.compare) : items;
  return tlv(Tag.set, sorted.length === 1 ? sorted[0]! : Buffer.concat(sorted));
}

/** [n] EXPLICIT: a constructed context tag around one complete element. */
export function explicit(n: number, inner: Buffer): Buffer {
  return tlv(contextTag(n, true), inner);
}

/** [n] IMPLICIT: the element's own tag replaced, contents kept. */
export function implicit(n: number, contents: Buffer, constructed = false): Buffer {
  return tlv(contextTag(n, constructed), contents);
}

const derTrue = Buffer.from([Tag.boolean, 1, 0xff]);
const derFalse = Buffer.from([Tag.boolean, 1, 0x00]);
export function boolean(value: boolean): Buffer {
  return value ? derTrue : derFalse;
}

export const derNull: Buffer = Buffer.from([Tag.null, 0]);

/**
 * INTEGER from unsigned big-endian magnitude bytes: leading zero bytes are dropped and one is put
 * back when the high bit is set, so the value stays positive.
 */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = Buffer.from(magnitude.buffer, magnitude.byteOffset + start, magnitude.length - start);
  if (trimmed.length === 0) return Buffer.from([Tag.integer, 1, 0]);
  if (trimmed[0]! & 0x80) return tlv(Tag.integer, Buffer.concat([Buffer.from([0]), trimmed]));
  return tlv(Tag.integer, trimmed);
}

/** INTEGER from a bigint, two's complement, minimal length. */
export function integer(value: bigint | number): Buffer {
  let v = BigInt(value);
  if (v >= 0n) {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    return unsignedInteger(Buffer.from(hex, "hex"));
  }
  // Negative: find the smallest byte count whose two's complement range holds v.
  let bytes = 1;
  while (v < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  v += 1n << BigInt(bytes * 8);
  const hex = v.toString(16).padStart(bytes * 2, "0");
  return tlv(Tag.integer, Buffer.from(hex, "hex"));
}

/** BIT STRING with `unusedBits` padding bits in the last byte. */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + 1);
  out[0] = unusedBits;
  bytes.copy(out, 1);
  return tlv(Tag.bitString, out);
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(Tag.octetString, bytes);
}

export function printableString(value: string): Buffer {
  return tlv(Tag.printableString, Buffer.from(value, "latin1"));
}

export function utf8String(value: string): Buffer {
  return tlv(Tag.utf8String, Buffer.from(value, "utf8"));
}

export function ia5String(value: string): Buffer {
  return tlv(Tag.ia5String, Buffer.from(value, "latin1"));
}

/** OBJECT IDENTIFIER contents (no tag) from dotted form. */
function oidContents(dotted: string): Buffer {
  const arcs = dotted.split(".").map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`invalid OID ${JSON.stringify(dotted)}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) {
    throw new RangeError(`invalid OID ${JSON.stringify(dotted)}`);
  }
  const bytes: number[] = [];
  const push = (arc: bigint): void => {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...groups);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return Buffer.from(bytes);
}

const oidCache = new Map<string, Buffer>();
/** OBJECT IDENTIFIER from dotted form; encodings are cached, so call freely. */
export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = tlv(Tag.oid, oidContents(dotted));
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

/** Dotted form of OBJECT IDENTIFIER contents; undefined when they are not a valid encoding. */
export function oidToString(contents: Buffer): string | undefined {
  if (contents.length === 0 || contents.length > 64) return undefined;
  const arcs: bigint[] = [];
  let value = 0n;
  let started = false;
  for (const byte of contents) {
    if (!started && byte === 0x80) return undefined; // non-minimal arc
    started = true;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
      started = false;
    }
  }
  if (started) return undefined; // last arc unterminated
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join(".");
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), whole seconds, "Z". */
export function time(date: Date): Buffer {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("invalid date");
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be encoded`);
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  if (year >= 1950 && year < 2050) return tlv(Tag.utcTime, Buffer.from(`${digits.slice(2)}Z`, "latin1"));
  return tlv(Tag.generalizedTime, Buffer.from(`${digits}Z`, "latin1"));
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/** A DER encoding problem, with the offset it was found at. Callers wrap it in their own error. */
export class DerError extends Error {
  override readonly name = "DerError";
}

/** One parsed element: views into the input, nothing copied. */
export interface DerElement {
  readonly tag: number;
  /** The whole TLV. */
  readonly raw: Buffer;
  /** The contents octets. */
  readonly contents: Buffer;
}

/** Reads the element that starts at `offset`; returns it and the offset just after it. */
export function readElement(input: Buffer, offset: number): { element: DerElement; next: number } {
  if (offset + 2 > input.length) throw new DerError(`truncated element at offset ${offset}`);
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at offset ${offset}`);
  let pos = offset + 1;
  const first = input[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError(`indefinite length at offset ${offset}`);
    if (count > 3) throw new DerError(`length too large at offset ${offset}`);
    if (pos + count > input.length) throw new DerError(`truncated length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | input[pos++]!;
    if (length < 0x80 || (count > 1 && input[pos - count] === 0)) {
      throw new DerError(`non-minimal length at offset ${offset}`);
    }
  }
  const end = pos + length;
  if (end > input.length) throw new DerError(`element at offset ${offset} claims ${length} bytes, only ${input.length - pos} remain`);
  return {
    element: { tag, raw: input.subarray(offset, end), contents: input.subarray(pos, end) },
    next: end,
  };
}

/** Parses `input` as exactly one element with the expected tag (no trailing bytes). */
export function parseOne(input: Buffer, expectedTag: number, what: string): DerElement {
  const { element, next } = readElement(input, 0);
  if (element.tag !== expectedTag) throw new DerError(`${what}: expected tag 0x${hex(expectedTag)}, got 0x${hex(element.tag)}`);
  if (next !== input.length) throw new DerError(`${what}: ${input.length - next} trailing bytes`);
  return element;
}

/** The direct children of a constructed element, at most `max` of them. */
export function children(parent: DerElement, what: string, max = 64): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw new DerError(`${what}: expected a constructed element`);
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < parent.contents.length) {
    if (out.length === max) throw new DerError(`${what}: more than ${max} elements`);
    const { element, next } = readElement(parent.contents, offset);
    out.push(element);
    offset = next;
  }
  return out;
}

/** Requires `element` to have tag `tag`; returns it for chaining. */
export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what}: missing`);
  if (element.tag !== tag) throw new DerError(`${what}: expected tag 0x${hex(tag)}, got 0x${hex(element.tag)}`);
  return element;
}

export function readOid(element: DerElement | undefined, what: string): string {
  const e = expectTag(element, Tag.oid, what);
  const dotted = oidToString(e.contents);
  if (dotted === undefined) throw new DerError(`${what}: invalid object identifier`);
  return dotted;
}

/** INTEGER as a bigint, rejecting non-minimal encodings. Bounded to `maxBytes`. */
export function readInteger(element: DerElement | undefined, what: string, maxBytes = 32): bigint {
  const c = expectTag(element, Tag.integer, what).contents;
  if (c.length === 0) throw new DerError(`${what}: empty integer`);
  if (c.length > maxBytes) throw new DerError(`${what}: integer longer than ${maxBytes} bytes`);
  if (c.length > 1 && ((c[0] === 0 && !(c[1]! & 0x80)) || (c[0] === 0xff && c[1]! & 0x80))) {
    throw new DerError(`${what}: non-minimal integer`);
  }
  let v = BigInt(`0x${c.toString("hex")}`);
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

/** Positive INTEGER's magnitude bytes (sign byte dropped), for RSA moduli and the like. */
export function readUnsignedIntegerBytes(element: DerElement | undefined, what: string): Buffer {
  const c = expectTag(element, Tag.integer, what).contents;
  if (c.length === 0) throw new DerError(`${what}: empty integer`);
  if (c[0]! & 0x80) throw new DerError(`${what}: negative integer`);
  if (c.length > 1 && c[0] === 0 && !(c[1]! & 0x80)) throw new DerError(`${what}: non-minimal integer`);
  return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
}

/** BIT STRING contents with zero unused bits (keys and signatures). */
export function readBitStringBytes(element: DerElement | undefined, what: string): Buffer {
  const c = expectTag(element, Tag.bitString, what).contents;
  if (c.length === 0) throw new DerError(`${what}: empty bit string`);
  if (c[0] !== 0) throw new DerError(`${what}: bit string with unused bits`);
  return c.subarray(1);
}

export function readBoolean(element: DerElement | undefined, what: string): boolean {
  const c = expectTag(element, Tag.boolean, what).contents;
  if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) throw new DerError(`${what}: invalid boolean`);
  return c[0] === 0xff;
}

/** UTCTime or GeneralizedTime in the RFC 5280 "Z" forms. */
export function readTime(element: DerElement | undefined, what: string): Date {
  if (!element) throw new DerError(`${what}: missing`);
  const s = element.contents.toString("latin1");
  let m: RegExpExecArray | null;
  let year: number;
  if (element.tag === Tag.utcTime && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (element.tag === Tag.generalizedTime && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new DerError(`${what}: invalid time`);
  }
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, se));
  date.setUTCFullYear(year, mo - 1, d); // Date.UTC maps years 0–99 to 1900–1999
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new DerError(`${what}: invalid time`);
  }
  return date;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
