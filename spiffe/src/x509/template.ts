/**
 * Certificate templates with SPIRE's profiles (pkg/server/credtemplate/builder.go, as issued
 * through Go's x509.CreateCertificate): what goes into each TBSCertificate, already DER-encoded
 * where it is fixed, in the extension order Go writes.
 */
import { randomBytes } from "node:crypto";
import type { SpiffeId, TrustDomain } from "../id/index.js";
import { bitString, boolean, implicit, octetString, oid, sequence } from "./der.js";
import { X509Error } from "./errors.js";
import { subjectKeyIdFromSpki } from "./keys.js";
import {
  defaultX509CaSubject,
  defaultX509SvidSubject,
  distinguishedNameFrom,
  encodeName,
  isEmptyName,
  type DistinguishedName,
  type NameAttribute,
} from "./name.js";
import { Oid } from "./oids.js";

/** SPIRE's NotBeforeCushion: notBefore is backdated this much for clock skew. */
export const notBeforeCushionMs = 10_000;
/** SPIRE's DefaultX509SVIDTTL. */
export const defaultX509SvidTtlSeconds = 3600;
/** SPIRE's DefaultX509CATTL. */
export const defaultX509CaTtlSeconds = 24 * 3600;

/** Everything a TBSCertificate needs besides the signature algorithm. */
export interface CertificateTemplate {
  readonly serial: bigint;
  /** Issuer Name DER (the issuer certificate's subject, byte for byte). */
  readonly issuer: Buffer;
  /** Subject Name DER. */
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER, copied unchanged. */
  readonly spki: Buffer;
  /** Encoded Extension elements, in order. */
  readonly extensions: readonly Buffer[];
}

/** What a child certificate needs from its issuer (see issuerFromCertificate). */
export interface Issuer {
  /** The issuer's subject Name DER. */
  readonly subject: Buffer;
  /** The issuer's SKI; becomes the child's AKI. Without it no AKI is written, as Go does. */
  readonly subjectKeyId: Buffer | undefined;
  /** Children never outlive their issuer. */
  readonly notAfter: Date;
  /** The issuer's subject attributes; downstream CAs inherit them. */
  readonly subjectName?: readonly NameAttribute[];
}

interface Common {
  /** SubjectPublicKeyInfo DER of the key being certified (from a CSR, or spkiOf(publicKey)). */
  readonly spki: Buffer;
  readonly ttlSeconds?: number;
  /** Defaults to the current time. */
  readonly now?: Date;
  /** Defaults to newSerialNumber(). */
  readonly serial?: bigint;
}

export interface X509SvidParams extends Common {
  readonly spiffeId: SpiffeId;
  readonly issuer: Issuer;
  /** DNS SANs; the first also becomes the subject CN, as SPIRE does for workload SVIDs. */
  readonly dnsNames?: readonly string[];
  /** Defaults to C=US, O=SPIRE. */
  readonly subject?: DistinguishedName;
}

export interface X509CaParams extends Common {
  readonly trustDomain: TrustDomain;
  /**
   * Defaults to C=US, O=SPIFFE; a serialNumber attribute equal to the certificate serial is added
   * unless one is given. Raw Name DER (say, a CSR's subject) is used unchanged.
   */
  readonly subject?: DistinguishedName | Buffer;
}

/** The parts of a CA's CSR that upstream signing copies (a CertificateRequest from parseCsr fits). */
export interface CaRequest {
  readonly spki: Buffer;
  readonly subject: readonly NameAttribute[];
  readonly uriSan: string | undefined;
}

export interface UpstreamSignedCaParams {
  readonly trustDomain: TrustDomain;
  readonly csr: CaRequest;
  readonly issuer: Issuer;
  /** Defaults to 1 h, SPIRE's DefaultUpstreamCATTL. */
  readonly ttlSeconds?: number;
  readonly now?: Date;
  readonly serial?: bigint;
}

export interface DownstreamCaParams extends Common {
  readonly trustDomain: TrustDomain;
  /** The signing CA; its subjectName is required (issuerFromCertificate fills it). */
  readonly issuer: Issuer;
  /** len(ParentChain) in SPIRE: the signing CA and every certificate above it up to the root. */
  readonly parentChainLength: number;
}

/** SPIRE's x509svid.DefaultUpstreamCATTL. */
export const defaultUpstreamCaTtlSeconds = 3600;

/** A random serial in [1, 2^128 − 1], as SPIRE's x509util.NewSerialNumber. */
export function newSerialNumber(): bigint {
  for (;;) {
    const serial = BigInt(`0x${randomBytes(16).toString("hex")}`);
    if (serial !== 0n) return serial;
  }
}

/** An X509-SVID leaf: server, agent or workload. */
export function x509SvidTemplate(params: X509SvidParams): CertificateTemplate {
  const { spiffeId, issuer } = params;
  if (spiffeId.isTrustDomainId) {
    throw new X509Error("invalid-template", `invalid X509-SVID ID "${spiffeId}": an SVID's ID must have a non-root path`);
  }
  const tooLong = spiffeId.issuanceProblem();
  if (tooLong) throw new X509Error("invalid-template", `invalid X509-SVID ID: ${tooLong}`);
  const dnsNames = params.dnsNames ?? [];
  for (const name of dnsNames) {
    if (!/^[\x00-\x7f]*$/.test(name)) throw new X509Error("invalid-template", `DNS name ${JSON.stringify(name)} is not an IA5String`);
  }

  let subject = params.subject && !isEmptyName(params.subject) ? params.subject : defaultX509SvidSubject;
  if (dnsNames.length > 0) subject = { ...subject, commonName: dnsNames[0]! };
  const { notBefore, notAfter } = lifetime(params, defaultX509SvidTtlSeconds, issuer.notAfter);

  const extensions = [
    svidKeyUsage,
    svidExtKeyUsage,
    leafBasicConstraints,
    subjectKeyIdExtension(params.spki),
    ...authorityKeyIdExtension(issuer),
    subjectAltName(dnsNames, spiffeId.toString()),
  ];
  return {
    serial: params.serial ?? newSerialNumber(),
    issuer: issuer.subject,
    subject: encodeName(subject),
    notBefore,
    notAfter,
    spki: params.spki,
    extensions,
  };
}

/** SPIRE's self-signed X.509 CA (no UpstreamAuthority): issuer = subject, no AKI. */
export function selfSignedCaTemplate(params: X509CaParams): CertificateTemplate {
  const serial = params.serial ?? newSerialNumber();
  const subject = caSubject(params.subject, serial);
  const { notBefore, notAfter } = lifetime(params, defaultX509CaTtlSeconds, undefined);
  return {
    serial,
    issuer: subject,
    subject,
    notBefore,
    notAfter,
    spki: params.spki,
    extensions: [caKeyUsage, caBasicConstraints, subjectKeyIdExtension(params.spki), subjectAltName([], params.trustDomain.idString)],
  };
}

/**
 * A server CA signed from its CSR by an upstream CA, as SPIRE's x509svid.UpstreamCA.SignCSR does
 * (the disk UpstreamAuthority, and SPIRE servers acting as upstream): the CSR's subject (as Go
 * re-encodes it) and URI SAN are copied, the URI must be the trust domain's ID, and the key usage adds digitalSignature.
 */
export function upstreamSignedCaTemplate(params: UpstreamSignedCaParams): CertificateTemplate {
  const { csr, trustDomain, issuer } = params;
  if (csr.uriSan === undefined) throw new X509Error("invalid-template", "CSR must have exactly one URI SAN");
  if (csr.uriSan !== trustDomain.idString) {
    throw new X509Error(
      "invalid-template",
      `CSR SPIFFE ID ${JSON.stringify(csr.uriSan)} is not the trust domain ID for trust domain ${JSON.stringify(trustDomain.name)}`,
    );
  }
  const { notBefore, notAfter } = lifetime(params, defaultUpstreamCaTtlSeconds, issuer.notAfter);
  return {
    serial: params.serial ?? newSerialNumber(),
    issuer: issuer.subject,
    // Go re-encodes the parsed pkix.Name rather than copying the CSR's bytes.
    subject: encodeName(distinguishedNameFrom(csr.subject)),
    notBefore,
    notAfter,
    spki: csr.spki,
    extensions: [
      upstreamCaKeyUsage,
      caBasicConstraints,
      subjectKeyIdExtension(csr.spki),
      ...authorityKeyIdExtension(issuer),
      subjectAltName([], csr.uriSan),
    ],
  };
}

/**
 * A downstream SPIRE server's CA, as credtemplate.BuildDownstreamX509CATemplate builds it: the
 * parent's subject with OU replaced by "DOWNSTREAM-<chain length>", keyCertSign | cRLSign, the
 * trust domain's URI SAN, TTL defaulting to the CA TTL and capped at the parent's notAfter.
 */
export function downstreamCaTemplate(params: DownstreamCaParams): CertificateTemplate {
  const { issuer } = params;
  if (!issuer.subjectName) throw new X509Error("invalid-template", "parent chain required to build downstream X509 CA template");
  const subject = { ...distinguishedNameFrom(issuer.subjectName), organizationalUnit: [`DOWNSTREAM-${params.parentChainLength}`] };
  const { notBefore, notAfter } = lifetime(params, defaultX509CaTtlSeconds, issuer.notAfter);
  return {
    serial: params.serial ?? newSerialNumber(),
    issuer: issuer.subject,
    subject: encodeName(subject),
    notBefore,
    notAfter,
    spki: params.spki,
    extensions: [
      caKeyUsage,
      caBasicConstraints,
      subjectKeyIdExtension(params.spki),
      ...authorityKeyIdExtension(issuer),
      subjectAltName([], params.trustDomain.idString),
    ],
  };
}

function caSubject(subject: DistinguishedName | Buffer | undefined, serial: bigint): Buffer {
  if (Buffer.isBuffer(subject)) return subject;
  const name = subject && !isEmptyName(subject) ? subject : defaultX509CaSubject;
  return encodeName(name.serialNumber ? name : { ...name, serialNumber: serial.toString(10) });
}

/** notBefore = now − 10 s; notAfter = now + TTL, capped at the issuer's notAfter (computeCappedLifetime). */
function lifetime(params: Pick<Common, "now" | "ttlSeconds">, defaultTtlSeconds: number, cap: Date | undefined): { notBefore: Date; notAfter: Date } {
  const now = (params.now ?? new Date()).getTime();
  const ttl = params.ttlSeconds && params.ttlSeconds > 0 ? params.ttlSeconds : defaultTtlSeconds;
  let notAfter = now + ttl * 1000;
  if (cap && notAfter > cap.getTime()) notAfter = cap.getTime();
  return { notBefore: new Date(now - notBeforeCushionMs), notAfter: new Date(notAfter) };
}

// ---------------------------------------------------------------------------------------------
// Extensions, encoded as Go's buildCertExtensions does (critical only when true).
// ---------------------------------------------------------------------------------------------

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

// KeyUsage bits, numbered from the most significant bit of the first byte.
const digitalSignature = 0x80;
const keyEncipherment = 0x20;
const keyAgreement = 0x08;
const keyCertSign = 0x04;
const cRLSign = 0x02;

/** A one-byte KeyUsage BIT STRING with trailing zero bits declared unused, as DER requires. */
function keyUsageValue(bits: number): Buffer {
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused++;
  return bitString(Buffer.from([bits]), unused);
}

// Leaf: digitalSignature | keyEncipherment | keyAgreement for every key type (SPIRE does not vary it).
const svidKeyUsage = extension(Oid.keyUsage, true, keyUsageValue(digitalSignature | keyEncipherment | keyAgreement));
const svidExtKeyUsage = extension(Oid.extKeyUsage, false, sequence(oid(Oid.serverAuth), oid(Oid.clientAuth)));
// cA=false is the DEFAULT, so DER leaves it out: an empty SEQUENCE.
const leafBasicConstraints = extension(Oid.basicConstraints, true, sequence());
// credtemplate's CAs (self-signed, downstream) carry keyCertSign | cRLSign only; x509svid.UpstreamCA adds digitalSignature.
const caKeyUsage = extension(Oid.keyUsage, true, keyUsageValue(keyCertSign | cRLSign));
const upstreamCaKeyUsage = extension(Oid.keyUsage, true, keyUsageValue(digitalSignature | keyCertSign | cRLSign));
const caBasicConstraints = extension(Oid.basicConstraints, true, sequence(boolean(true)));

function subjectKeyIdExtension(spki: Buffer): Buffer {
  return extension(Oid.subjectKeyIdentifier, false, octetString(subjectKeyIdFromSpki(spki)));
}

function authorityKeyIdExtension(issuer: Issuer): Buffer[] {
  if (!issuer.subjectKeyId || issuer.subjectKeyId.length === 0) return [];
  return [extension(Oid.authorityKeyIdentifier, false, sequence(implicit(0, issuer.subjectKeyId)))];
}

/** SAN as Go's marshalSANs orders it: DNS names first, then URIs. Non-critical: the subject is never empty. */
function subjectAltName(dnsNames: readonly string[], uri: string): Buffer {
  const names = dnsNames.map((name) => implicit(2, Buffer.from(name, "latin1")));
  names.push(implicit(6, Buffer.from(uri, "latin1")));
  return extension(Oid.subjectAltName, false, sequence(...names));
}
