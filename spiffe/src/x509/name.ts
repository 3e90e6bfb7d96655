/**
 * X.500 distinguished names as SPIRE builds them: Go's pkix.Name, encoded in Go's attribute order
 * (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER), one attribute per RDN, each value a
 * PrintableString when Go would choose one and a UTF8String otherwise.
 */
import { children, DerError, expectTag, oid, printableString, readOid, sequence, set, Tag, utf8String, type DerElement } from "./der.js";
import { Oid } from "./oids.js";

export interface DistinguishedName {
  readonly country?: readonly string[];
  readonly province?: readonly string[];
  readonly locality?: readonly string[];
  readonly streetAddress?: readonly string[];
  readonly postalCode?: readonly string[];
  readonly organization?: readonly string[];
  readonly organizationalUnit?: readonly string[];
  readonly commonName?: string;
  readonly serialNumber?: string;
}

/** One attribute of a parsed name, in the order it appeared. */
export interface NameAttribute {
  /** Dotted OID, e.g. "2.5.4.3" for CN. */
  readonly type: string;
  readonly value: string;
}

/** SPIRE's default subject for X509-SVIDs (credtemplate.DefaultX509SVIDSubject). */
export const defaultX509SvidSubject: DistinguishedName = Object.freeze({ country: ["US"], organization: ["SPIRE"] });
/** SPIRE's default subject for its X.509 CA (credtemplate.DefaultX509CASubject); the serial is added per certificate. */
export const defaultX509CaSubject: DistinguishedName = Object.freeze({ country: ["US"], organization: ["SPIFFE"] });

export function isEmptyName(name: DistinguishedName): boolean {
  return nameAttributes(name).length === 0;
}

/** DER Name (RDNSequence) for `name`. */
export function encodeName(name: DistinguishedName): Buffer {
  return sequence(...nameAttributes(name).map(([type, value]) => set(sequence(oid(type), directoryString(value)))));
}

function nameAttributes(n: DistinguishedName): [string, string][] {
  const out: [string, string][] = [];
  const add = (type: string, values: readonly string[] | undefined): void => {
    for (const v of values ?? []) out.push([type, v]);
  };
  add(Oid.country, n.country);
  add(Oid.province, n.province);
  add(Oid.locality, n.locality);
  add(Oid.streetAddress, n.streetAddress);
  add(Oid.postalCode, n.postalCode);
  add(Oid.organization, n.organization);
  add(Oid.organizationalUnit, n.organizationalUnit);
  if (n.commonName) out.push([Oid.commonName, n.commonName]);
  if (n.serialNumber) out.push([Oid.serialNumber, n.serialNumber]);
  return out;
}

// Go's asn1 marshaller picks PrintableString only for this set (no '*', no '&').
const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
function directoryString(value: string): Buffer {
  return printable.test(value) ? printableString(value) : utf8String(value);
}

/**
 * A parsed name as Go's pkix.Name.FillFromRDNSequence sees it: known attributes only (others are
 * dropped when Go re-encodes), CN and serialNumber last-one-wins, the rest in order.
 */
export function distinguishedNameFrom(attributes: readonly NameAttribute[]): DistinguishedName {
  const lists: Record<string, string[]> = {};
  let commonName: string | undefined;
  let serialNumber: string | undefined;
  for (const { type, value } of attributes) {
    if (type === Oid.commonName) commonName = value;
    else if (type === Oid.serialNumber) serialNumber = value;
    else (lists[type] ??= []).push(value);
  }
  return {
    country: lists[Oid.country],
    province: lists[Oid.province],
    locality: lists[Oid.locality],
    streetAddress: lists[Oid.streetAddress],
    postalCode: lists[Oid.postalCode],
    organization: lists[Oid.organization],
    organizationalUnit: lists[Oid.organizationalUnit],
    commonName,
    serialNumber,
  };
}

const stringTags = new Set<number>([Tag.utf8String, Tag.printableString, Tag.ia5String, 0x14 /* T61 */, 0x1e /* BMP */]);

/** Reads a Name's attributes (bounded), for reporting a CSR's requested subject. */
export function parseName(element: DerElement, what: string): NameAttribute[] {
  expectTag(element, Tag.sequence, what);
  const out: NameAttribute[] = [];
  for (const rdn of children(element, what, 32)) {
    expectTag(rdn, Tag.set, `${what} RDN`);
    for (const atv of children(rdn, `${what} RDN`, 8)) {
      const [type, value, extra] = children(expectTag(atv, Tag.sequence, `${what} attribute`), `${what} attribute`, 3);
      if (extra) throw new DerError(`${what} attribute: unexpected element`);
      const t = readOid(type, `${what} attribute type`);
      if (!value || !stringTags.has(value.tag)) throw new DerError(`${what} attribute ${t}: value is not a string`);
      if (value.tag === 0x1e && value.contents.length % 2) throw new DerError(`${what} attribute ${t}: odd-length BMPString`);
      const text =
        value.tag === 0x1e
          ? Buffer.from(value.contents).swap16().toString("utf16le")
          : value.contents.toString(value.tag === Tag.utf8String ? "utf8" : "latin1");
      out.push({ type: t, value: text });
    }
  }
  return out;
}
