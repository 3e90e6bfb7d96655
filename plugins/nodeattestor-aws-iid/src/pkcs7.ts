/**
 * PKCS #7 SignedData (RFC 2315) as AWS signs the instance identity document: attached content,
 * signers named by issuer and serial number, SHA-256 with RSA, usually over authenticated
 * attributes that carry the content's digest. Verified as SPIRE's library (fullsailor/pkcs7)
 * does: every signer must verify with a certificate the caller trusts, found by issuer and serial
 * (SPIRE drops whatever certificates the message carries and trusts only AWS's). Parsing is ours
 * (a small BER reader) and the cryptography is node:crypto; see README for why no PKCS #7 library.
 */
import { type KeyObject, X509Certificate, createHash, timingSafeEqual, verify } from "node:crypto";
import { type BerElement, BerError, integer, isContext, isUniversal, octets, oid, parseBer, reencode, universal } from "./ber.js";

const oids = {
  signedData: "1.2.840.113549.1.7.2",
  messageDigest: "1.2.840.113549.1.9.4",
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha1WithRsa: "1.2.840.113549.1.1.5",
  sha256WithRsa: "1.2.840.113549.1.1.11",
} as const;

/** A refused or unreadable PKCS #7 message; messages are fullsailor/pkcs7's and Go's. */
export class Pkcs7Error extends Error {
  override readonly name = "Pkcs7Error";
}

/** A certificate the caller trusts to have signed, with what signer lookup compares. */
export interface TrustedCertificate {
  readonly der: Buffer;
  /** The DER of the issuer Name. */
  readonly issuer: Buffer;
  readonly serialNumber: bigint;
  readonly publicKey: KeyObject;
}

export function trustedCertificate(der: Buffer): TrustedCertificate {
  const cert = parseBer(der);
  const tbs = cert.children[0];
  if (!isUniversal(tbs, universal.sequence)) throw new BerError("certificate has no TBSCertificate");
  const fields = isContext(tbs.children[0], 0) ? tbs.children.slice(1) : tbs.children;
  const [serial, , issuer] = fields;
  if (!serial || !isUniversal(issuer, universal.sequence)) throw new BerError("certificate has no serial number or issuer");
  return { der, issuer: reencode(issuer), serialNumber: integer(serial), publicKey: new X509Certificate(der).publicKey };
}

interface SignerInfo {
  readonly issuer: Buffer;
  readonly serialNumber: bigint;
  readonly digestAlgorithm: string;
  /** The authenticated attributes: the DER SET that is signed, and the elements. */
  readonly authenticatedAttributes?: { readonly der: Buffer; readonly attributes: readonly BerElement[] };
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
}

export interface SignedData {
  /** The signed content (empty if the message carries none). */
  readonly content: Buffer;
  readonly signers: readonly SignerInfo[];
}

/** Parses a ContentInfo holding SignedData; Pkcs7Error if it is anything else or malformed. */
export function parseSignedData(der: Buffer): SignedData {
  if (der.length === 0) throw new Pkcs7Error("pkcs7: input data is empty");
  try {
    return readSignedData(parseBer(der));
  } catch (e) {
    if (e instanceof BerError) throw new Pkcs7Error(`asn1: structure error: ${e.message}`);
    throw e;
  }
}

function readSignedData(contentInfo: BerElement): SignedData {
  const [type, explicit] = contentInfo.children;
  if (!isUniversal(contentInfo, universal.sequence) || !type) throw new BerError("ContentInfo is not a SEQUENCE");
  if (oid(type) !== oids.signedData) throw new Pkcs7Error("pkcs7: cannot parse data: unimplemented content type");
  const sd = explicit?.children[0];
  if (!isContext(explicit, 0) || !isUniversal(sd, universal.sequence)) throw new BerError("SignedData missing");
  const [version, digestAlgorithms, inner, ...rest] = sd.children;
  if (!version || !isUniversal(digestAlgorithms, universal.set) || !isUniversal(inner, universal.sequence)) throw new BerError("SignedData is malformed");
  integer(version);
  const signerInfos = rest[rest.length - 1];
  if (!isUniversal(signerInfos, universal.set)) throw new BerError("SignedData has no signerInfos");
  return { content: innerContent(inner), signers: signerInfos.children.map(readSignerInfo) };
}

/** The content of the inner ContentInfo: [0] EXPLICIT OCTET STRING, possibly in BER segments. */
function innerContent(inner: BerElement): Buffer {
  const [type, explicit] = inner.children;
  if (!type) throw new BerError("content info has no type");
  oid(type);
  if (explicit === undefined) return Buffer.alloc(0);
  const value = explicit.children[0];
  if (!isContext(explicit, 0) || !isUniversal(value, universal.octetString)) throw new BerError("content is not an OCTET STRING");
  return octets(value);
}

function readSignerInfo(e: BerElement): SignerInfo {
  if (!isUniversal(e, universal.sequence)) throw new BerError("SignerInfo is not a SEQUENCE");
  const [version, ias, digestAlgorithm, ...rest] = e.children;
  if (!version || !isUniversal(ias, universal.sequence) || !isUniversal(digestAlgorithm, universal.sequence)) throw new BerError("SignerInfo is malformed");
  integer(version);
  const [issuer, serial] = ias.children;
  if (!isUniversal(issuer, universal.sequence) || !serial) throw new BerError("issuerAndSerialNumber is malformed");
  let i = 0;
  let authenticatedAttributes: SignerInfo["authenticatedAttributes"];
  if (isContext(rest[0], 0)) {
    // Signed as the DER of a SET OF: the [0] IMPLICIT tag becomes SET's.
    authenticatedAttributes = { der: reencode(rest[0], 0x31), attributes: rest[0].children };
    i = 1;
  }
  const signatureAlgorithm = rest[i];
  const signature = rest[i + 1];
  if (!isUniversal(signatureAlgorithm, universal.sequence) || !isUniversal(signature, universal.octetString)) throw new BerError("SignerInfo is malformed");
  return {
    issuer: reencode(issuer),
    serialNumber: integer(serial),
    digestAlgorithm: algorithmOid(digestAlgorithm),
    ...(authenticatedAttributes ? { authenticatedAttributes } : {}),
    signatureAlgorithm: algorithmOid(signatureAlgorithm),
    signature: octets(signature),
  };
}

function algorithmOid(e: BerElement): string {
  const first = e.children[0];
  if (!first) throw new BerError("AlgorithmIdentifier is empty");
  return oid(first);
}

/**
 * Verifies every signer with the one of `trusted` that matches its issuer and serial number;
 * Pkcs7Error with fullsailor/pkcs7's message for the first signer that does not verify.
 */
export function verifySignedData(sd: SignedData, trusted: readonly TrustedCertificate[]): void {
  if (sd.signers.length === 0) throw new Pkcs7Error("pkcs7: Message has no signers");
  try {
    for (const signer of sd.signers) verifySigner(sd.content, signer, trusted);
  } catch (e) {
    if (e instanceof BerError) throw new Pkcs7Error(`asn1: structure error: ${e.message}`);
    throw e;
  }
}

function verifySigner(content: Buffer, signer: SignerInfo, trusted: readonly TrustedCertificate[]): void {
  if (signer.digestAlgorithm !== oids.sha256 && signer.digestAlgorithm !== oids.sha1) {
    throw new Pkcs7Error("pkcs7: cannot decrypt data: only RSA, DES, DES-EDE3, AES-256-CBC and AES-128-GCM supported");
  }
  const hash = signer.digestAlgorithm === oids.sha256 ? "sha256" : "sha1";
  let signed = content;
  if (signer.authenticatedAttributes) {
    const digest = messageDigest(signer.authenticatedAttributes.attributes);
    const computed = createHash(hash).update(content).digest();
    if (digest.length !== computed.length || !timingSafeEqual(digest, computed)) {
      throw new Pkcs7Error(`pkcs7: Message digest mismatch\n\tExpected: ${hex(digest)}\n\tActual  : ${hex(computed)}`);
    }
    signed = signer.authenticatedAttributes.der;
  }
  const cert = trusted.find((c) => c.serialNumber === signer.serialNumber && c.issuer.equals(signer.issuer));
  if (!cert) throw new Pkcs7Error("pkcs7: No certificate for signer");
  const rsa = signer.signatureAlgorithm === oids.rsaEncryption || signer.signatureAlgorithm === (hash === "sha256" ? oids.sha256WithRsa : oids.sha1WithRsa);
  if (!rsa) throw new Pkcs7Error("x509: cannot verify signature: algorithm unimplemented");
  if (hash === "sha1") throw new Pkcs7Error("x509: cannot verify signature: insecure algorithm SHA1-RSA");
  if (cert.publicKey.asymmetricKeyType !== "rsa") throw new Pkcs7Error("x509: signature algorithm specifies an RSA public key, but have public key of another type");
  if (!rsaVerify(signed, cert.publicKey, signer.signature)) throw new Pkcs7Error("crypto/rsa: verification error");
}

function messageDigest(attributes: readonly BerElement[]): Buffer {
  for (const attribute of attributes) {
    const [type, values] = attribute.children;
    if (!type || oid(type) !== oids.messageDigest) continue;
    const value = values?.children[0];
    if (!isUniversal(values, universal.set) || !isUniversal(value, universal.octetString)) throw new Pkcs7Error("asn1: structure error: messageDigest is not an OCTET STRING");
    return octets(value);
  }
  throw new Pkcs7Error("pkcs7: attribute type not in attributes");
}

/** RSASSA-PKCS1-v1_5 with SHA-256; a malformed signature is a failed one. */
export function rsaVerify(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify("sha256", data, key, signature);
  } catch {
    return false;
  }
}

const hex = (b: Buffer) => b.toString("hex").toUpperCase();
