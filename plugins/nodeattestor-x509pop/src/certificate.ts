/**
 * An agent's certificate as the attestor reads it: the fields chain verification, the
 * proof-of-possession challenge, the agent ID template and the selectors need, parsed strictly
 * from DER. Errors use Go's "x509: …" wording, since SPIRE's messages embed Go's.
 */
import { type KeyObject, createHash, createPublicKey } from "node:crypto";
import {
  DerError,
  type DerElement,
  Tag,
  children,
  expectTag,
  parseOne,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  readTime,
} from "./der.js";

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

/** The curves Go's x509 parses (P-224, P-256, P-384, P-521), by OpenSSL's names. */
const goCurves = new Set(["secp224r1", "prime256v1", "secp384r1", "secp521r1"]);

const maxExtensions = 64;
const maxNames = 256;

export function parseCertificate(der: Buffer): Certificate {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof CertificateParseError) throw e;
    if (e instanceof DerError) throw new CertificateParseError(`x509: malformed certificate (${e.message})`);
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

function parse(der: Buffer): Certificate {
  const outer = parseOne(der, Tag.sequence, "certificate");
  const [tbs, sigAlg, sig] = children(outer, "certificate", 3);
  const tbsFields = children(expectTag(tbs, Tag.sequence, "tbs certificate"), "tbs certificate", 10);
  let i = 0;
  let version = 1;
  if (tbsFields[0]?.tag === 0xa0) {
    const [v] = children(tbsFields[0], "version", 1);
    const n = readInteger(v, "version", 2);
    if (n < 0n || n > 2n) throw new CertificateParseError("x509: invalid version");
    version = Number(n) + 1;
    i++;
  }
  const serialNumber = readInteger(tbsFields[i++], "serial number", 64);
  if (serialNumber < 0n) throw new CertificateParseError("x509: negative serial number");
  const innerAlg = expectTag(tbsFields[i++], Tag.sequence, "signature algorithm");
  const issuer = expectTag(tbsFields[i++], Tag.sequence, "issuer");
  const [notBefore, notAfter] = children(expectTag(tbsFields[i++], Tag.sequence, "validity"), "validity", 2);
  const subject = expectTag(tbsFields[i++], Tag.sequence, "subject");
  const spki = expectTag(tbsFields[i++], Tag.sequence, "subject public key info");
  const outerAlg = expectTag(sigAlg, Tag.sequence, "signature algorithm");
  if (!innerAlg.raw.equals(outerAlg.raw)) throw new CertificateParseError("x509: inner and outer signature algorithm identifiers don't match");
  const [algOid] = children(outerAlg, "signature algorithm", 2);
  const signature = readBitString(sig, "signature");
  if (signature.unusedBits !== 0) throw new CertificateParseError("x509: malformed signature");

  const fields = {
    keyUsage: 0,
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    subjectKeyId: Buffer.alloc(0),
    authorityKeyId: Buffer.alloc(0),
    dnsNames: [] as string[],
    uris: [] as string[],
    ipAddresses: [] as Buffer[],
    hasNameConstraints: false,
    unhandledCriticalExtension: false,
  };
  for (; i < tbsFields.length; i++) {
    const f = tbsFields[i]!;
    if (f.tag === 0x81 || f.tag === 0x82) continue; // issuer/subject unique IDs
    if (f.tag !== 0xa3) throw new CertificateParseError("x509: malformed tbs certificate");
    if (version !== 3) throw new CertificateParseError("x509: malformed extensions");
    const [exts] = children(f, "extensions", 1);
    readExtensions(expectTag(exts, Tag.sequence, "extensions"), fields);
  }

  return {
    raw: outer.raw,
    rawTbs: tbs!.raw,
    version,
    serialNumber,
    signatureAlgorithm: readOid(algOid, "signature algorithm"),
    signature: signature.bytes,
    rawIssuer: issuer.raw,
    rawSubject: subject.raw,
    subjectCommonName: commonNameOf(subject),
    issuerCommonName: commonNameOf(issuer),
    notBefore: readTime(notBefore, "notBefore"),
    notAfter: readTime(notAfter, "notAfter"),
    publicKey: publicKeyOf(spki.raw),
    ...fields,
  };
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
  const seen = new Set<string>();
  for (const ext of children(exts, "extensions", maxExtensions)) {
    const parts = children(expectTag(ext, Tag.sequence, "extension"), "extension", 3);
    const id = readOid(parts[0], "extension id");
    if (seen.has(id)) throw new CertificateParseError("x509: certificate contains duplicate extensions");
    seen.add(id);
    const critical = parts.length === 3 ? readBoolean(parts[1], "extension critical") : false;
    const value = expectTag(parts[parts.length - 1], Tag.octetString, "extension value").contents;
    if (critical && !handledExtensions.has(id)) out.unhandledCriticalExtension = true;
    switch (id) {
      case Oid.keyUsage:
        out.keyUsage = keyUsageOf(value);
        break;
      case Oid.basicConstraints:
        readBasicConstraints(value, out);
        break;
      case Oid.subjectKeyId:
        out.subjectKeyId = parseOne(value, Tag.octetString, "subject key identifier").contents;
        break;
      case Oid.authorityKeyId:
        for (const c of children(parseOne(value, Tag.sequence, "authority key identifier"), "authority key identifier", 3)) {
          if (c.tag === 0x80) out.authorityKeyId = c.contents;
        }
        break;
      case Oid.subjectAltName:
        readAltNames(value, out);
        break;
      case Oid.nameConstraints:
        out.hasNameConstraints = true;
        break;
    }
  }
}

function keyUsageOf(value: Buffer): number {
  const { bytes } = readBitString(parseOne(value, Tag.bitString, "key usage"), "key usage");
  let usage = 0;
  for (let bit = 0; bit < 9; bit++) {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && byte & (0x80 >> (bit & 7))) usage |= 1 << bit;
  }
  return usage;
}

function readBasicConstraints(value: Buffer, out: ExtensionFields): void {
  const parts = children(parseOne(value, Tag.sequence, "basic constraints"), "basic constraints", 2);
  let k = 0;
  out.basicConstraintsValid = true;
  if (parts[k]?.tag === Tag.boolean) out.isCA = readBoolean(parts[k++], "basic constraints cA");
  if (parts[k]) {
    const n = readInteger(parts[k], "path length", 4);
    if (n < 0n) throw new CertificateParseError("x509: invalid basic constraints");
    out.maxPathLen = Number(n);
  }
}

function readAltNames(value: Buffer, out: ExtensionFields): void {
  for (const name of children(parseOne(value, Tag.sequence, "subject alternative names"), "subject alternative names", maxNames)) {
    switch (name.tag) {
      case 0x82:
        out.dnsNames.push(ia5(name.contents, "SAN dNSName"));
        break;
      case 0x86:
        out.uris.push(ia5(name.contents, "SAN uniformResourceIdentifier"));
        break;
      case 0x87:
        if (name.contents.length !== 4 && name.contents.length !== 16) {
          throw new CertificateParseError(`x509: cannot parse IP address of length ${name.contents.length}`);
        }
        out.ipAddresses.push(name.contents);
        break;
    }
  }
}

function ia5(bytes: Buffer, what: string): string {
  for (const b of bytes) if (b > 0x7f) throw new CertificateParseError(`x509: SAN ${what} is malformed`);
  return bytes.toString("latin1");
}

/** Go keeps the last CN attribute of the subject. */
function commonNameOf(name: DerElement): string {
  let cn = "";
  for (const rdn of children(name, "name", maxNames)) {
    for (const atv of children(expectTag(rdn, Tag.set, "relative distinguished name"), "relative distinguished name", maxNames)) {
      const [type, value] = children(expectTag(atv, Tag.sequence, "attribute"), "attribute", 2);
      if (readOid(type, "attribute type") === Oid.commonName) cn = directoryString(value);
    }
  }
  return cn;
}

function directoryString(value: DerElement | undefined): string {
  if (!value) throw new CertificateParseError("x509: invalid RDNSequence: missing attribute value");
  switch (value.tag) {
    case Tag.utf8String: {
      const s = value.contents.toString("utf8");
      if (!Buffer.from(s, "utf8").equals(value.contents)) throw new CertificateParseError("x509: invalid RDNSequence: invalid UTF-8 string");
      return s;
    }
    case Tag.printableString:
    case Tag.ia5String:
    case Tag.numericString:
    case Tag.t61String:
      return value.contents.toString("latin1");
    case Tag.bmpString: {
      if (value.contents.length % 2) throw new CertificateParseError("x509: invalid RDNSequence: invalid BMPString");
      const swapped = Buffer.from(value.contents);
      swapped.swap16();
      return swapped.toString("utf16le");
    }
    default:
      return "";
  }
}

function publicKeyOf(spki: Buffer): PublicKeyInfo {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch {
    return { type: "unknown", description: "an unsupported or malformed public key" };
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
      return { type: "rsa", bits: details.modulusLength ?? 0, key };
    case "ec":
      if (!goCurves.has(details.namedCurve ?? "")) throw new CertificateParseError("x509: unsupported elliptic curve");
      return { type: "ecdsa", curve: details.namedCurve ?? "", key };
    case "ed25519":
      return { type: "ed25519", key };
    default:
      return { type: "unknown", description: `a ${key.asymmetricKeyType ?? "unknown"} public key` };
  }
}
