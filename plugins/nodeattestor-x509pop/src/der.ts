/**
 * A strict, bounded DER reader: just what reading an agent's certificates needs. Certificates
 * arrive from the network before anything about them is trusted, so every length is checked
 * against what is left, nesting is walked one level at a time (no recursion on input), and
 * every element returned is a view into the input.
 */

export class DerError extends Error {
  override readonly name = "DerError";
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  numericString: 0x12,
  sequence: 0x30,
  set: 0x31,
} as const;

export interface DerElement {
  readonly tag: number;
  /** The whole TLV. */
  readonly raw: Buffer;
  /** The value octets. */
  readonly contents: Buffer;
}

/** Reads one element at `offset`; returns it and where the next one starts. */
export function readElement(input: Buffer, offset: number, what: string): { element: DerElement; next: number } {
  if (offset + 2 > input.length) throw new DerError(`${what}: truncated`);
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: high tag numbers are not supported`);
  let length = input[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError(`${what}: indefinite length`);
    if (count > 4) throw new DerError(`${what}: length too large`);
    if (offset + 2 + count > input.length) throw new DerError(`${what}: truncated`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + input[offset + 2 + i]!;
    if (input[offset + 2] === 0 || length < 0x80) throw new DerError(`${what}: non-minimal length`);
    header += count;
  }
  const end = offset + header + length;
  if (end > input.length) throw new DerError(`${what}: truncated`);
  return { element: { tag, raw: input.subarray(offset, end), contents: input.subarray(offset + header, end) }, next: end };
}

/** Exactly one element filling `input`. */
export function parseOne(input: Buffer, tag: number, what: string): DerElement {
  const { element, next } = readElement(input, 0, what);
  if (next !== input.length) throw new DerError(`${what}: trailing data`);
  return expectTag(element, tag, what);
}

/** The elements inside a constructed element, at most `max` of them. */
export function children(element: DerElement, what: string, max: number): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.contents.length) {
    if (out.length >= max) throw new DerError(`${what}: too many elements`);
    const { element: child, next } = readElement(element.contents, offset, what);
    out.push(child);
    offset = next;
  }
  return out;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what}: missing`);
  if (element.tag !== tag) throw new DerError(`${what}: unexpected tag 0x${element.tag.toString(16)}`);
  return element;
}

export function readInteger(element: DerElement | undefined, what: string, maxBytes: number): bigint {
  const e = expectTag(element, Tag.integer, what);
  const c = e.contents;
  if (c.length === 0) throw new DerError(`${what}: empty integer`);
  if (c.length > maxBytes) throw new DerError(`${what}: integer too large`);
  if (c.length > 1 && ((c[0] === 0 && !(c[1]! & 0x80)) || (c[0] === 0xff && c[1]! & 0x80))) {
    throw new DerError(`${what}: integer not minimally encoded`);
  }
  let value = BigInt(`0x${c.toString("hex")}`);
  if (c[0]! & 0x80) value -= 1n << BigInt(c.length * 8);
  return value;
}

export function readBoolean(element: DerElement | undefined, what: string): boolean {
  const e = expectTag(element, Tag.boolean, what);
  if (e.contents.length !== 1 || (e.contents[0] !== 0 && e.contents[0] !== 0xff)) throw new DerError(`${what}: invalid boolean`);
  return e.contents[0] === 0xff;
}

export function readOid(element: DerElement | undefined, what: string): string {
  const c = expectTag(element, Tag.oid, what).contents;
  if (c.length === 0 || c.length > 64) throw new DerError(`${what}: invalid object identifier`);
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    if (value === 0 && b === 0x80) throw new DerError(`${what}: invalid object identifier`);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 256) throw new DerError(`${what}: object identifier arc too large`);
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    } else if (i === c.length - 1) {
      throw new DerError(`${what}: truncated object identifier`);
    }
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

/** A BIT STRING's bits (MSB first) with the count of unused trailing bits. */
export function readBitString(element: DerElement | undefined, what: string): { bytes: Buffer; unusedBits: number } {
  const c = expectTag(element, Tag.bitString, what).contents;
  if (c.length === 0) throw new DerError(`${what}: empty bit string`);
  const unusedBits = c[0]!;
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) throw new DerError(`${what}: invalid bit string`);
  const bytes = c.subarray(1);
  if (unusedBits && bytes.length && bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) throw new DerError(`${what}: invalid bit string padding`);
  return { bytes, unusedBits };
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 profiles them. */
export function readTime(element: DerElement | undefined, what: string): Date {
  if (!element) throw new DerError(`${what}: missing`);
  const s = element.contents.toString("latin1");
  let m: RegExpExecArray | null;
  let year: number;
  if (element.tag === Tag.utcTime && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (element.tag === Tag.generalizedTime && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new DerError(`${what}: invalid time`);
  }
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(`${what}: invalid time`);
  }
  if (year < 100) d.setUTCFullYear(year);
  return d;
}
