/**
 * A reader for ASN.1 BER, the encoding AWS uses for the instance identity PKCS #7 (indefinite
 * lengths and constructed OCTET STRINGs, as `openssl smime` writes them), and DER, its strict
 * subset. Hostile input: every length is checked against the bytes that exist, nesting is
 * bounded, and nothing is read past the element it belongs to.
 */

export class BerError extends Error {
  override readonly name = "BerError";
}

export const tagClass = { universal: 0, application: 1, context: 2, private: 3 } as const;

export const universal = {
  integer: 2,
  bitString: 3,
  octetString: 4,
  null: 5,
  oid: 6,
  sequence: 16,
  set: 17,
  utcTime: 23,
  generalizedTime: 24,
} as const;

export interface BerElement {
  readonly cls: number;
  readonly tag: number;
  readonly constructed: boolean;
  /** The primitive contents (empty for a constructed element). */
  readonly content: Buffer;
  /** The children of a constructed element. */
  readonly children: readonly BerElement[];
  /** The whole element as it was encoded (identifier, length, contents, end-of-contents). */
  readonly raw: Buffer;
}

const maxDepth = 32;

/** Parses exactly one element filling `bytes`. */
export function parseBer(bytes: Buffer): BerElement {
  const [element, end] = readElement(bytes, 0, 0);
  if (end !== bytes.length) throw new BerError("trailing data after ASN.1 element");
  return element;
}

function readElement(b: Buffer, start: number, depth: number): [BerElement, number] {
  if (depth > maxDepth) throw new BerError("ASN.1 nesting too deep");
  let i = start;
  if (i >= b.length) throw new BerError("truncated ASN.1 element");
  const first = b[i++]!;
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let n = 0; ; n++) {
      if (i >= b.length) throw new BerError("truncated ASN.1 tag");
      if (n >= 4) throw new BerError("ASN.1 tag too large");
      const c = b[i++]!;
      tag = (tag << 7) | (c & 0x7f);
      if ((c & 0x80) === 0) break;
    }
  }
  if (i >= b.length) throw new BerError("truncated ASN.1 length");
  const lengthByte = b[i++]!;
  if (lengthByte === 0x80) {
    if (!constructed) throw new BerError("indefinite length on a primitive ASN.1 element");
    const children: BerElement[] = [];
    for (;;) {
      if (i + 1 >= b.length) throw new BerError("missing ASN.1 end-of-contents");
      if (b[i] === 0 && b[i + 1] === 0) {
        i += 2;
        break;
      }
      const [child, next] = readElement(b, i, depth + 1);
      children.push(child);
      i = next;
    }
    return [{ cls, tag, constructed, content: Buffer.alloc(0), children, raw: b.subarray(start, i) }, i];
  }
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count > 4) throw new BerError("ASN.1 length too large");
    length = 0;
    for (let k = 0; k < count; k++) {
      if (i >= b.length) throw new BerError("truncated ASN.1 length");
      length = length * 256 + b[i++]!;
    }
  }
  const end = i + length;
  if (end > b.length) throw new BerError("ASN.1 element longer than its data");
  if (!constructed) return [{ cls, tag, constructed, content: b.subarray(i, end), children: [], raw: b.subarray(start, end) }, end];
  const children: BerElement[] = [];
  while (i < end) {
    const [child, next] = readElement(b.subarray(0, end), i, depth + 1);
    children.push(child);
    i = next;
  }
  return [{ cls, tag, constructed, content: Buffer.alloc(0), children, raw: b.subarray(start, end) }, end];
}

export function isUniversal(e: BerElement | undefined, tag: number): e is BerElement {
  return e !== undefined && e.cls === tagClass.universal && e.tag === tag;
}

export function isContext(e: BerElement | undefined, tag: number): e is BerElement {
  return e !== undefined && e.cls === tagClass.context && e.tag === tag;
}

/** The bytes of an OCTET STRING, primitive or constructed from segments (BER). */
export function octets(e: BerElement, depth = 0): Buffer {
  if (!e.constructed) return e.content;
  if (depth > 4) throw new BerError("OCTET STRING segments nested too deep");
  return Buffer.concat(
    e.children.map((c) => {
      if (!isUniversal(c, universal.octetString)) throw new BerError("constructed OCTET STRING holds something else");
      return octets(c, depth + 1);
    }),
  );
}

/** Dotted text of an OBJECT IDENTIFIER. */
export function oid(e: BerElement): string {
  if (!isUniversal(e, universal.oid) || e.constructed || e.content.length === 0) throw new BerError("expected an OBJECT IDENTIFIER");
  const parts: number[] = [];
  let value = 0;
  for (const byte of e.content) {
    if (value > 2 ** 45) throw new BerError("OBJECT IDENTIFIER arc too large");
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  if (e.content[e.content.length - 1]! & 0x80) throw new BerError("truncated OBJECT IDENTIFIER");
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

/** An INTEGER's value. */
export function integer(e: BerElement): bigint {
  if (!isUniversal(e, universal.integer) || e.constructed || e.content.length === 0) throw new BerError("expected an INTEGER");
  let v = BigInt(`0x${e.content.toString("hex")}`);
  if (e.content[0]! & 0x80) v -= 1n << BigInt(e.content.length * 8);
  return v;
}

/**
 * The DER encoding of `e` (with `identifier` as its identifier octet if given): definite lengths throughout, the
 * same children. For input that was DER already, the bytes are the input's own.
 */
export function reencode(e: BerElement, identifier?: number): Buffer {
  const id = identifier !== undefined ? Buffer.from([identifier]) : identifierOctets(e);
  const body = e.constructed ? Buffer.concat(e.children.map((c) => reencode(c))) : e.content;
  return Buffer.concat([id, encodeLength(body.length), body]);
}

function identifierOctets(e: BerElement): Buffer {
  // The identifier is everything before the length octet(s); BER allows no other form.
  const first = e.raw[0]!;
  if ((first & 0x1f) !== 0x1f) return Buffer.from([first]);
  let n = 1;
  while (e.raw[n]! & 0x80) n++;
  return e.raw.subarray(0, n + 1);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
