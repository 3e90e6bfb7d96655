/**
 * An agent's certificate as the attestor reads it: the fields chain verification, the
 * proof-of-possession challenge, the agent ID template and the selectors need, parsed strictly
 * from DER. Errors use Go's "x509: …" wording, since SPIRE's messages embed Go's.
 */
import { type KeyObject, createHash, createPublicKey } from "node:crypto";
import { DerError, type DerElement, Tag, readElement, readInteger, readOid, readTime } from "./der.js";

/** Go's x509.KeyUsage flags (bit i of the DER bit string is 1 << i). */
export const KeyUsage = {
  digitalSignature: 1 << 0,
  certSign: 1 << 5,
} as const;

export type PublicKeyInfo =
  | { readonly type: "rsa"; readonly bits: number; readonly key: KeyObject }
  | { readonly type: "ecdsa"; readonly curve: string; readonly key: KeyObject }
  | { readonly type: "ed25519"; readonly key: KeyObject }
  | { readonly type: "unknown"; readonly description: string };

export interface Certificate {
  /** The whole certificate DER (what the fingerprint hashes). */
  readonly raw: Buffer;
  readonly rawTbs: Buffer;
  readonly version: number;
  readonly serialNumber: bigint;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  readonly rawIssuer: Buffer;
  readonly rawSubject: Buffer;
  /** The subject's common name, "" when it has none (Go: the last CN attribute wins). */
  readonly subjectCommonName: string;
  readonly issuerCommonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  /** 0 when the certificate has no key usage extension. */
  readonly keyUsage: number;
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** -1 when the basic constraints carry no path length. */
  readonly maxPathLen: number;
  readonly subjectKeyId: Buffer;
  readonly authorityKeyId: Buffer;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly Buffer[];
  readonly hasNameConstraints: boolean;
  readonly unhandledCriticalExtension: boolean;
}

/** A certificate that could not be parsed; the message is Go's wording where it can be. */
export class CertificateParseError extends Error {
  override readonly name = "CertificateParseError";
}

const Oid = {
  commonName: "2.5.4.3",
  subjectKeyId: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  authorityKeyId: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  certificatePolicies: "2.5.29.32",
} as const;

/** Extensions Go's x509 understands, so that marking them critical is not an error. */
const handledExtensions = new Set([
  "2.5.29.14",
  "2.5.29.15",
  "2.5.29.17",
  "2.5.29.19",
  "2.5.29.30",
  "2.5.29.31",
  "2.5.29.32",
  "2.5.29.33",
  "2.5.29.35",
  "2.5.29.36",
  "2.5.29.37",
  "2.5.29.54",
]);

/** The curves Go's x509 parses, by OID: Go's name, OpenSSL's name, coordinate size. */
const goCurves: Readonly<Record<string, { go: string; openssl: string; size: number }>> = {
  "1.3.132.0.33": { go: "P224", openssl: "secp224r1", size: 28 },
  "1.2.840.10045.3.1.7": { go: "P256", openssl: "prime256v1", size: 32 },
  "1.3.132.0.34": { go: "P384", openssl: "secp384r1", size: 48 },
  "1.3.132.0.35": { go: "P521", openssl: "secp521r1", size: 66 },
};

const maxExtensions = 64;
const maxNames = 256;

export function parseCertificate(der: Buffer): Certificate {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof CertificateParseError) throw e;
    if (e instanceof DerError) throw new CertificateParseError("x509: malformed certificate");
    throw e;
  }
}

/** SPIRE's fingerprint: lowercase hex SHA-1 of the certificate DER. */
export function fingerprint(cert: Certificate): string {
  return createHash("sha1").update(cert.raw).digest("hex");
}

/** SPIRE's SerialNumberHex: lowercase hex with an even number of digits. */
export function serialNumberHex(serial: bigint): string {
  const hex = (serial < 0n ? -serial : serial).toString(16);
  return (serial < 0n ? "-" : "") + (hex.length % 2 ? `0${hex}` : hex);
}

/** Go's x509.ParseCertificate, step by step, with its messages (crypto/x509/parser.go). */
function parse(der: Buffer): Certificate {
  const top = new Cursor(der);
  const outer = top.element(Tag.sequence) ?? failWith("x509: malformed certificate");
  const input = new Cursor(outer.contents);
  const tbs = input.element(Tag.sequence) ?? failWith("x509: malformed tbs certificate");
  const t = new Cursor(tbs.contents);

  let version = 1;
  if (t.peek() === 0xa0) {
    const v = new Cursor(t.element(0xa0)!.contents);
    const n = v.integer() ?? failWith("x509: malformed version");
    if (n < 0n) failWith("x509: malformed version");
    if (n > 2n) failWith("x509: invalid version");
    version = Number(n) + 1;
  }
  const serialNumber = t.integer() ?? failWith("x509: malformed serial number");
  if (serialNumber < 0n) failWith("x509: negative serial number");
  const innerAlg = t.element(Tag.sequence) ?? failWith("x509: malformed signature algorithm identifier");
  const outerAlg = input.element(Tag.sequence) ?? failWith("x509: malformed algorithm identifier");
  if (!innerAlg.contents.equals(outerAlg.contents)) failWith("x509: inner and outer signature algorithm identifiers don't match");
  const signatureAlgorithm = algorithmOid(innerAlg);
  const issuer = t.element(Tag.sequence) ?? failWith("x509: malformed issuer");
  const issuerCommonName = commonNameOf(issuer);
  const validity = t.element(Tag.sequence) ?? failWith("x509: malformed validity");
  const [notBefore, notAfter] = validityOf(validity);
  const subject = t.element(Tag.sequence) ?? failWith("x509: malformed issuer");
  const subjectCommonName = commonNameOf(subject);
  const spki = t.element(Tag.sequence) ?? failWith("x509: malformed spki");
  const publicKey = publicKeyOf(spki);

  const fields: ExtensionFields = {
    keyUsage: 0,
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    subjectKeyId: Buffer.alloc(0),
    authorityKeyId: Buffer.alloc(0),
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    hasNameConstraints: false,
    unhandledCriticalExtension: false,
  };
  if (version > 1) {
    if (t.peek() === 0x81 && !t.element(0x81)) failWith("x509: malformed issuerUniqueID");
    if (t.peek() === 0x82 && !t.element(0x82)) failWith("x509: malformed subjectUniqueID");
    if (version === 3 && t.peek() === 0xa3) {
      const wrapper = t.element(0xa3) ?? failWith("x509: malformed extensions");
      const exts = new Cursor(wrapper.contents).element(Tag.sequence) ?? failWith("x509: malformed extensions");
      readExtensions(exts, fields);
    }
  }
  const sig = input.element(Tag.bitString) ?? failWith("x509: malformed signature");
  if (!validBitString(sig)) failWith("x509: malformed signature");
  if (!top.done) failWith("x509: trailing data");

  return {
    raw: outer.raw,
    rawTbs: tbs.raw,
    version,
    serialNumber,
    signatureAlgorithm,
    // Go's signature.RightAlign(): with unused bits the bytes shift (and no longer verify).
    signature: rightAlign(sig.contents[0]!, sig.contents.subarray(1)),
    rawIssuer: issuer.raw,
    rawSubject: subject.raw,
    subjectCommonName,
    issuerCommonName,
    notBefore,
    notAfter,
    publicKey,
    ...fields,
  };
}

/** cryptobyte's ReadASN1BitString: at most 7 padding bits, none without data, and the padding zero. */
function validBitString(e: DerElement): boolean {
  const c = e.contents;
  if (c.length === 0) return false;
  const padding = c[0]!;
  if (padding > 7 || (c.length === 1 && padding > 0)) return false;
  return (c[c.length - 1]! & ((1 << padding) - 1)) === 0;
}

function failWith(message: string): never {
  throw new CertificateParseError(message);
}

/** Reads DER elements one after another, answering undefined where Go's cryptobyte read fails. */
class Cursor {
  private offset = 0;
  constructor(private readonly input: Buffer) {}

  get done(): boolean {
    return this.offset >= this.input.length;
  }

  peek(): number | undefined {
    return this.input[this.offset];
  }

  element(tag: number): DerElement | undefined {
    if (this.peek() !== tag) return undefined;
    try {
      const { element, next } = readElement(this.input, this.offset, "element");
      this.offset = next;
      return element;
    } catch (e) {
      if (e instanceof DerError) return undefined;
      throw e;
    }
  }

  any(): DerElement | undefined {
    const tag = this.peek();
    return tag === undefined ? undefined : this.element(tag);
  }

  integer(): bigint | undefined {
    const e = this.element(Tag.integer);
    if (!e) return undefined;
    try {
      return readInteger(e, "integer", 1 << 16);
    } catch {
      return undefined;
    }
  }

  oid(): string | undefined {
    const e = this.element(Tag.oid);
    if (!e) return undefined;
    try {
      return readOid(e, "oid");
    } catch {
      return undefined;
    }
  }
}

/** Go's parseAI: the algorithm OID and the parameters element, if any. */
function parseAi(ai: DerElement): { oid: string; params: DerElement | undefined } {
  const c = new Cursor(ai.contents);
  const oid = c.oid() ?? failWith("x509: malformed OID");
  if (c.done) return { oid, params: undefined };
  return { oid, params: c.any() ?? failWith("x509: malformed parameters") };
}

function algorithmOid(ai: DerElement): string {
  return parseAi(ai).oid;
}

function validityOf(validity: DerElement): [Date, Date] {
  const c = new Cursor(validity.contents);
  const time = (): Date => {
    const tag = c.peek();
    if (tag !== Tag.utcTime && tag !== Tag.generalizedTime) failWith("x509: unsupported time format");
    const e = c.element(tag)!;
    try {
      return readTime(e, "time");
    } catch {
      return failWith(tag === Tag.utcTime ? "x509: malformed UTCTime" : "x509: malformed GeneralizedTime");
    }
  };
  return [time(), time()];
}

type ExtensionFields = {
  keyUsage: number;
  basicConstraintsValid: boolean;
  isCA: boolean;
  maxPathLen: number;
  subjectKeyId: Buffer;
  authorityKeyId: Buffer;
  dnsNames: string[];
  uris: string[];
  ipAddresses: Buffer[];
  hasNameConstraints: boolean;
  unhandledCriticalExtension: boolean;
};

function readExtensions(exts: DerElement, out: ExtensionFields): void {
  const list = new Cursor(exts.contents);
  const parsed: { id: string; critical: boolean; value: Buffer }[] = [];
  const seen = new Set<string>();
  while (!list.done) {
    if (parsed.length >= maxExtensions) failWith("x509: malformed extensions");
    const ext = list.element(Tag.sequence) ?? failWith("x509: malformed extension");
    const c = new Cursor(ext.contents);
    const id = c.oid() ?? failWith("x509: malformed extension OID field");
    let critical = false;
    if (c.peek() === Tag.boolean) {
      const b = c.element(Tag.boolean);
      if (!b || b.contents.length !== 1 || (b.contents[0] !== 0 && b.contents[0] !== 0xff)) failWith("x509: malformed extension critical field");
      critical = b.contents[0] === 0xff;
    }
    const value = c.element(Tag.octetString) ?? failWith("x509: malformed extension value field");
    if (seen.has(id)) failWith(`x509: certificate contains duplicate extension with OID ${JSON.stringify(id)}`);
    seen.add(id);
    parsed.push({ id, critical, value: value.contents });
  }
  for (const { id, critical, value } of parsed) {
    if (critical && !handledExtensions.has(id)) out.unhandledCriticalExtension = true;
    switch (id) {
      case Oid.keyUsage:
        out.keyUsage = keyUsageOf(value);
        break;
      case Oid.basicConstraints:
        readBasicConstraints(value, out);
        break;
      case Oid.subjectKeyId:
        if (critical) failWith("x509: subject key identifier incorrectly marked critical");
        out.subjectKeyId = (new Cursor(value).element(Tag.octetString) ?? failWith("x509: invalid subject key identifier")).contents;
        break;
      case Oid.authorityKeyId: {
        if (critical) failWith("x509: authority key identifier incorrectly marked critical");
        const akid = new Cursor(new Cursor(value).element(Tag.sequence)?.contents ?? failWith("x509: invalid authority key identifier"));
        if (akid.peek() === 0x80) out.authorityKeyId = (akid.element(0x80) ?? failWith("x509: invalid authority key identifier")).contents;
        break;
      }
      case Oid.subjectAltName:
        readAltNames(value, out);
        break;
      case Oid.extKeyUsage: {
        const seq = new Cursor(new Cursor(value).element(Tag.sequence)?.contents ?? failWith("x509: invalid extended key usages"));
        while (!seq.done) if (seq.oid() === undefined) failWith("x509: invalid extended key usages");
        break;
      }
      case Oid.certificatePolicies: {
        const seq = new Cursor(new Cursor(value).element(Tag.sequence)?.contents ?? failWith("x509: invalid certificate policies"));
        const policies = new Set<string>();
        while (!seq.done) {
          const policy = seq.element(Tag.sequence);
          const oid = policy && new Cursor(policy.contents).element(Tag.oid);
          if (!oid || policies.has(oid.contents.toString("hex"))) failWith("x509: invalid certificate policies");
          policies.add(oid.contents.toString("hex"));
        }
        break;
      }
      case Oid.nameConstraints:
        out.hasNameConstraints = true;
        break;
    }
  }
}

function keyUsageOf(value: Buffer): number {
  const e = new Cursor(value).element(Tag.bitString);
  if (!e || !validBitString(e)) failWith("x509: invalid key usage");
  const bytes = e.contents.subarray(1);
  let usage = 0;
  for (let bit = 0; bit < 9; bit++) {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && byte & (0x80 >> (bit & 7))) usage |= 1 << bit;
  }
  return usage;
}

function readBasicConstraints(value: Buffer, out: ExtensionFields): void {
  const seq = new Cursor(value).element(Tag.sequence) ?? failWith("x509: invalid basic constraints");
  const c = new Cursor(seq.contents);
  out.basicConstraintsValid = true;
  out.isCA = false;
  out.maxPathLen = -1;
  if (c.peek() === Tag.boolean) {
    const b = c.element(Tag.boolean);
    if (!b || b.contents.length !== 1 || (b.contents[0] !== 0 && b.contents[0] !== 0xff)) failWith("x509: invalid basic constraints");
    out.isCA = b.contents[0] === 0xff;
  }
  if (c.peek() === Tag.integer) {
    const n = c.integer();
    if (n === undefined || n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) failWith("x509: invalid basic constraints");
    out.maxPathLen = Number(n);
  }
}

function readAltNames(value: Buffer, out: ExtensionFields): void {
  const seq = new Cursor(value).element(Tag.sequence) ?? failWith("x509: invalid subject alternative names");
  const names = new Cursor(seq.contents);
  let count = 0;
  while (!names.done) {
    if (++count > maxNames) failWith("x509: invalid subject alternative names");
    const name = names.any() ?? failWith("x509: invalid subject alternative name");
    switch (name.tag) {
      case 0x81:
        ia5(name.contents, "rfc822Name");
        break;
      case 0x82:
        out.dnsNames.push(ia5(name.contents, "dNSName"));
        break;
      case 0x86: {
        const uri = ia5(name.contents, "uniformResourceIdentifier");
        const problem = uriHostProblem(uri);
        if (problem) failWith(`x509: cannot parse URI ${JSON.stringify(uri)}: parse ${JSON.stringify(uri)}: ${problem}`);
        out.uris.push(uri);
        break;
      }
      case 0x87:
        if (name.contents.length !== 4 && name.contents.length !== 16) failWith(`x509: cannot parse IP address of length ${name.contents.length}`);
        out.ipAddresses.push(name.contents);
        break;
    }
  }
}

/**
 * The host check of Go's url.Parse for "scheme://host…" URIs: characters a host may not hold
 * (other than %-escapes) make it fail with `invalid character "c" in host name`.
 */
function uriHostProblem(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return undefined;
  let host = m[1]!;
  const at = host.lastIndexOf("@");
  if (at >= 0) host = host.slice(at + 1);
  if (host.startsWith("[")) return undefined;
  for (const ch of host) {
    if (!/[A-Za-z0-9\-._~!$&'()*+,;=:%\[\]<>"]/.test(ch)) return `invalid character ${JSON.stringify(ch)} in host name`;
  }
  return undefined;
}

function ia5(bytes: Buffer, what: string): string {
  for (const b of bytes) if (b > 0x7f) failWith(`x509: SAN ${what} is malformed`);
  return bytes.toString("latin1");
}

/** Go keeps the last CN attribute of the name. */
function commonNameOf(name: DerElement): string {
  let cn = "";
  const rdns = new Cursor(name.contents);
  let count = 0;
  while (!rdns.done) {
    const set = rdns.element(Tag.set) ?? failWith("x509: invalid RDNSequence");
    const atvs = new Cursor(set.contents);
    while (!atvs.done) {
      if (++count > maxNames) failWith("x509: invalid RDNSequence");
      const atv = atvs.element(Tag.sequence) ?? failWith("x509: invalid RDNSequence: invalid attribute");
      const c = new Cursor(atv.contents);
      const type = c.oid() ?? failWith("x509: invalid RDNSequence: invalid attribute type");
      const value = c.any() ?? failWith("x509: invalid RDNSequence: invalid attribute value");
      const text = directoryString(value);
      if (type === Oid.commonName) cn = text;
    }
  }
  return cn;
}

/** Go's parseASN1String, applied to every attribute value of a name. */
function directoryString(value: DerElement): string {
  const bad = (why: string): never => failWith(`x509: invalid RDNSequence: invalid attribute value: ${why}`);
  const bytes = value.contents;
  switch (value.tag) {
    case Tag.t61String:
      return bytes.toString("latin1");
    case Tag.printableString:
      for (const b of bytes) if (!isPrintable(b)) bad("invalid PrintableString");
      return bytes.toString("latin1");
    case Tag.utf8String: {
      const s = bytes.toString("utf8");
      if (!Buffer.from(s, "utf8").equals(bytes)) bad("invalid UTF-8 string");
      return s;
    }
    case Tag.bmpString: {
      if (bytes.length % 2) bad("invalid BMPString");
      let end = bytes.length;
      if (end >= 2 && bytes[end - 1] === 0 && bytes[end - 2] === 0) end -= 2;
      const swapped = Buffer.from(bytes.subarray(0, end));
      swapped.swap16();
      return swapped.toString("utf16le");
    }
    case Tag.ia5String:
      for (const b of bytes) if (b >= 0x80) bad("invalid IA5String");
      return bytes.toString("latin1");
    case Tag.numericString:
      for (const b of bytes) if (!(b === 0x20 || (b >= 0x30 && b <= 0x39))) bad("invalid NumericString");
      return bytes.toString("latin1");
    default:
      return bad(`unsupported string type: ${value.tag}`);
  }
}

/** Go's isPrintable (PrintableString, plus '*' and '&' as Go tolerates). */
function isPrintable(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x20 ||
    (b >= 0x27 && b <= 0x29) ||
    (b >= 0x2b && b <= 0x2f) ||
    b === 0x3a ||
    b === 0x3d ||
    b === 0x3f ||
    b === 0x2a ||
    b === 0x26
  );
}

/** Go's parsePublicKey: RSA, ECDSA (P-224…P-521, uncompressed points) and Ed25519 keys, checked as Go checks them. */
function publicKeyOf(spki: DerElement): PublicKeyInfo {
  const c = new Cursor(spki.contents);
  const ai = c.element(Tag.sequence) ?? failWith("x509: malformed public key algorithm identifier");
  const { oid: algorithm, params } = parseAi(ai);
  const bits = c.element(Tag.bitString) ?? failWith("x509: malformed subjectPublicKey");
  if (!validBitString(bits)) failWith("x509: malformed subjectPublicKey");
  // Go reads the key from the BIT STRING right-aligned: with unused bits the bytes shift.
  const data = rightAlign(bits.contents[0]!, bits.contents.subarray(1));
  switch (algorithm) {
    case "1.2.840.113549.1.1.1": {
      if (!params || params.tag !== Tag.null || params.contents.length !== 0) failWith("x509: RSA key missing NULL parameters");
      const seq = new Cursor(new Cursor(data).element(Tag.sequence)?.contents ?? failWith("x509: invalid RSA public key"));
      const n = seq.integer() ?? failWith("x509: invalid RSA modulus");
      const e = seq.integer();
      if (e === undefined || e > 0x7fffffffffffffffn || e < -0x8000000000000000n) failWith("x509: invalid RSA public exponent");
      if (n <= 0n) failWith("x509: RSA modulus is not a positive number");
      if (e <= 0n) failWith("x509: RSA public exponent is not a positive number");
      // Go parses no further than the checks above; a key that passes them but that OpenSSL refuses
      // still parses there (it fails later, when a signature is checked), so it must here too.
      const key = keyFrom(spki.raw);
      if (!key) return { type: "unknown", description: "an RSA public key that cannot be used" };
      return { type: "rsa", bits: n.toString(2).length, key };
    }
    case "1.2.840.10045.2.1": {
      const curveOid = params?.tag === Tag.oid ? new Cursor(params.raw).oid() : undefined;
      if (curveOid === undefined) failWith("x509: invalid ECDSA parameters");
      const curve = goCurves[curveOid];
      if (!curve) failWith("x509: unsupported elliptic curve");
      if (data.length < 1 || data[0] !== 4) failWith("ecdsa: invalid uncompressed public key");
      if (data.length !== 1 + 2 * curve.size) failWith(`invalid ${curve.go} point encoding`);
      const key = keyFrom(spki.raw) ?? failWith(`${curve.go} point not on curve`);
      return { type: "ecdsa", curve: curve.openssl, key };
    }
    case "1.3.101.112": {
      if (params) failWith("x509: Ed25519 key encoded with illegal parameters");
      if (data.length !== 32) failWith("x509: wrong Ed25519 public key size");
      const key = keyFrom(spki.raw) ?? failWith("x509: wrong Ed25519 public key size");
      return { type: "ed25519", key };
    }
    default:
      // X25519, DSA and algorithms Go does not know parse there, but can never answer a challenge.
      return { type: "unknown", description: `a public key of algorithm ${algorithm}` };
  }
}

/** encoding/asn1's BitString.RightAlign: the bits shifted right by the unused count. */
function rightAlign(unused: number, bytes: Buffer): Buffer {
  const shift = unused % 8;
  if (shift === 0 || bytes.length === 0) return bytes;
  const out = Buffer.alloc(bytes.length);
  out[0] = bytes[0]! >> shift;
  for (let i = 1; i < bytes.length; i++) out[i] = ((bytes[i - 1]! << (8 - shift)) | (bytes[i]! >> shift)) & 0xff;
  return out;
}

function keyFrom(spki: Buffer): KeyObject | undefined {
  try {
    return createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch {
    return undefined;
  }
}
