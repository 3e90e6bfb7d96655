/**
 * What SVID checks need from a certificate that Node's X509Certificate does not expose:
 * key usage bits, the basic constraints, the URI SANs and the critical extensions, read from
 * the DER once.
 */
import type { X509Certificate } from "node:crypto";
import { children, DerError, expectTag, parseOne, readBoolean, readInteger, readOid, readTime, Tag } from "../x509/der.js";
import { Oid } from "../x509/oids.js";

/** KeyUsage bits as Go numbers them (x509.KeyUsage), first bit = digitalSignature. */
export const KeyUsage = {
  digitalSignature: 1 << 0,
  contentCommitment: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
} as const;

export interface CertificateFacts {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** cA of basicConstraints; false when the extension is absent. */
  readonly isCa: boolean;
  /** pathLenConstraint, undefined when absent. */
  readonly maxPathLength: number | undefined;
  /** Go-numbered KeyUsage bits; 0 when the extension is absent. */
  readonly keyUsage: number;
  /** URI SANs, in certificate order. */
  readonly uris: readonly string[];
  /** OIDs of critical extensions we do not understand (Go refuses to verify through them). */
  readonly unhandledCritical: readonly string[];
}

const handled = new Set<string>([
  Oid.keyUsage,
  Oid.basicConstraints,
  Oid.subjectAltName,
  Oid.extKeyUsage,
  Oid.subjectKeyIdentifier,
  Oid.authorityKeyIdentifier,
  "2.5.29.30", // name constraints
  "2.5.29.32", // certificate policies
]);

const cache = new WeakMap<X509Certificate, CertificateFacts>();

/** The facts of a certificate (memoised per X509Certificate); DerError if its extensions are malformed. */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  let facts = cache.get(cert);
  if (!facts) {
    facts = readFacts(cert.raw);
    cache.set(cert, facts);
  }
  return facts;
}

function readFacts(der: Buffer): CertificateFacts {
  const [tbs] = children(parseOne(der, Tag.sequence, "certificate"), "certificate", 3);
  const fields = children(expectTag(tbs, Tag.sequence, "TBSCertificate"), "TBSCertificate", 10);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  i += 3; // serial, signature algorithm, issuer
  const [notBefore, notAfter] = children(expectTag(fields[i++], Tag.sequence, "validity"), "validity", 2);
  let isCa = false;
  let maxPathLength: number | undefined;
  let keyUsage = 0;
  const uris: string[] = [];
  const unhandledCritical: string[] = [];
  for (const field of fields.slice(i + 2)) {
    if (field.tag !== 0xa3) continue;
    const [list] = children(field, "extensions", 1);
    for (const ext of children(expectTag(list, Tag.sequence, "extensions"), "extensions", 64)) {
      const parts = children(expectTag(ext, Tag.sequence, "extension"), "extension", 3);
      const id = readOid(parts[0], "extension id");
      const critical = parts.length === 3 ? readBoolean(parts[1], "extension critical") : false;
      const value = expectTag(parts[parts.length - 1], Tag.octetString, "extension value").contents;
      if (critical && !handled.has(id)) unhandledCritical.push(id);
      if (id === Oid.basicConstraints) {
        const items = children(parseOne(value, Tag.sequence, "basic constraints"), "basic constraints", 2);
        let j = 0;
        if (items[j]?.tag === Tag.boolean) isCa = readBoolean(items[j++], "cA");
        if (items[j]) maxPathLength = Number(readInteger(items[j], "pathLenConstraint", 4));
      } else if (id === Oid.keyUsage) {
        keyUsage = keyUsageBits(value);
      } else if (id === Oid.subjectAltName) {
        for (const name of children(parseOne(value, Tag.sequence, "subject alt name"), "subject alt name", 1024)) {
          if (name.tag === 0x86) uris.push(name.contents.toString("latin1"));
        }
      }
    }
  }
  return {
    notBefore: readTime(notBefore, "notBefore"),
    notAfter: readTime(notAfter, "notAfter"),
    isCa,
    maxPathLength,
    keyUsage,
    uris,
    unhandledCritical,
  };
}

/** BIT STRING → Go's KeyUsage: bit n of the string (MSB first) becomes 1 << n. */
function keyUsageBits(value: Buffer): number {
  const bits = parseOne(value, Tag.bitString, "key usage").contents;
  if (bits.length === 0) throw new DerError("key usage: empty bit string");
  let usage = 0;
  for (let n = 0; n < (bits.length - 1) * 8 && n < 9; n++) {
    const byte = bits[1 + (n >> 3)]!;
    if (byte & (0x80 >> (n & 7))) usage |= 1 << n;
  }
  return usage;
}
