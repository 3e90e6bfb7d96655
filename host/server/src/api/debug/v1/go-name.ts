/**
 * A certificate subject as Go's pkix.Name.String() prints it (what SPIRE's
 * Debug GetInfo reports): standard attributes in Go's fixed order, printed
 * last-to-first, values escaped as RFC 2253; other attributes as OID=#hex.
 */
import type { NameAttribute } from "@signet/spiffe";

const C = "2.5.4.6";
const ST = "2.5.4.8";
const L = "2.5.4.7";
const STREET = "2.5.4.9";
const POSTALCODE = "2.5.4.17";
const O = "2.5.4.10";
const OU = "2.5.4.11";
const CN = "2.5.4.3";
const SERIALNUMBER = "2.5.4.5";

const shortNames: Record<string, string> = {
  [C]: "C",
  [ST]: "ST",
  [L]: "L",
  [STREET]: "STREET",
  [POSTALCODE]: "POSTALCODE",
  [O]: "O",
  [OU]: "OU",
  [CN]: "CN",
  [SERIALNUMBER]: "SERIALNUMBER",
};

type Rdn = readonly NameAttribute[];

export function goNameString(attributes: readonly NameAttribute[]): string {
  // Attributes Go does not parse into fields come first, so they print last.
  const rdns: Rdn[] = attributes.filter((a) => !(a.type in shortNames)).map((a) => [a]);
  const values = (type: string) => attributes.filter((a) => a.type === type);
  for (const type of [C, ST, L, STREET, POSTALCODE, O, OU]) {
    const list = values(type);
    if (list.length > 0) rdns.push(list);
  }
  // Go keeps only the last CN and serialNumber.
  for (const type of [CN, SERIALNUMBER]) {
    const last = values(type).at(-1);
    if (last && last.value !== "") rdns.push([last]);
  }
  return rdns
    .reverse()
    .map((rdn) => rdn.map(attributeString).join("+"))
    .join(",");
}

function attributeString(a: NameAttribute): string {
  const name = shortNames[a.type];
  if (!name) return `${a.type}=#${marshalString(a.value).toString("hex")}`;
  return `${name}=${escape(a.value)}`;
}

function escape(value: string): string {
  const chars = [...value];
  return chars
    .map((c, k) => {
      let esc = false;
      if (",+\"\\<>;".includes(c)) esc = true;
      else if (c === " ") esc = k === 0 || k === chars.length - 1;
      else if (c === "#") esc = k === 0;
      return esc ? `\\${c}` : c;
    })
    .join("");
}

/** asn1.Marshal of a Go string: PrintableString when it fits, else UTF8String. */
function marshalString(value: string): Buffer {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
  const body = Buffer.from(value, printable ? "latin1" : "utf8");
  const tag = printable ? 0x13 : 0x0c;
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
