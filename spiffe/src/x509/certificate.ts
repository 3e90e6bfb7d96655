/**
 * The few fields of an existing certificate that issuing needs: its subject (to become the
 * child's issuer), its SKI (the child's AKI), its validity (the child's cap) and its key.
 */
import { children, expectTag, parseOne, readInteger, readOid, readTime, Tag, type DerElement } from "./der.js";
import { X509Error } from "./errors.js";

import { parseName } from "./name.js";
import { Oid } from "./oids.js";
import type { Issuer } from "./template.js";

export interface CertificateFields extends Issuer {
  readonly serial: bigint;
  readonly notBefore: Date;
  readonly spki: Buffer;
  /** The TBSCertificate DER, for signature checks. */
  readonly tbs: Buffer;
}

/** Reads what issuing needs from a certificate's DER; X509Error("malformed-certificate") otherwise. */
export function readCertificate(der: Buffer): CertificateFields {
  try {
    return readFields(der);
  } catch (err) {
    throw new X509Error("malformed-certificate", `malformed certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The Issuer view of a CA certificate, for x509SvidTemplate and upstreamSignedCaTemplate. */
export function issuerFromCertificate(der: Buffer): Issuer {
  const { subject, subjectName, subjectKeyId, notAfter } = readCertificate(der);
  return { subject, subjectName, subjectKeyId, notAfter };
}

function readFields(der: Buffer): CertificateFields {
  const cert = parseOne(der, Tag.sequence, "certificate");
  const [tbs] = children(cert, "certificate", 3);
  const fields = children(expectTag(tbs, Tag.sequence, "TBSCertificate"), "TBSCertificate", 10);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // [0] EXPLICIT version
  const serial = readInteger(fields[i++], "serial number", 21);
  expectTag(fields[i++], Tag.sequence, "signature algorithm");
  expectTag(fields[i++], Tag.sequence, "issuer");
  const [notBefore, notAfter] = children(expectTag(fields[i++], Tag.sequence, "validity"), "validity", 2);
  const subject = expectTag(fields[i++], Tag.sequence, "subject");
  const subjectName = parseName(subject, "subject");
  const spki = expectTag(fields[i++], Tag.sequence, "public key info");
  let subjectKeyId: Buffer | undefined;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.tag !== 0xa3) continue;
    const [exts] = children(f, "extensions", 1);
    subjectKeyId = findSubjectKeyId(expectTag(exts, Tag.sequence, "extensions"));
  }
  return {
    serial,
    subject: subject.raw,
    subjectName,
    subjectKeyId,
    notBefore: readTime(notBefore, "notBefore"),
    notAfter: readTime(notAfter, "notAfter"),
    spki: spki.raw,
    tbs: tbs!.raw,
  };
}

function findSubjectKeyId(exts: DerElement): Buffer | undefined {
  for (const ext of children(exts, "extensions", 64)) {
    const parts = children(expectTag(ext, Tag.sequence, "extension"), "extension", 3);
    if (readOid(parts[0], "extension id") !== Oid.subjectKeyIdentifier) continue;
    const value = expectTag(parts[parts.length - 1], Tag.octetString, "extension value");
    return parseOne(value.contents, Tag.octetString, "subject key identifier").contents;
  }
  return undefined;
}

