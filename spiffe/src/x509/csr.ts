/**
 * PKCS#10 certification requests (RFC 2986): parse, check the key is one we issue for, verify the
 * self-signature, and read the requested SANs. Hostile input only ever yields a CsrError: the
 * reader is iterative, every list is bounded, and the input size is capped.
 */
import { createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from "node:crypto";
import { children, DerError, expectTag, parseOne, readBitStringBytes, readBoolean, readInteger, readOid, Tag, type DerElement } from "./der.js";
import { CsrError } from "./errors.js";
import { parseSpki, UnsupportedKeyError, type PublicKeyAlgorithm } from "./keys.js";
import { parseName, type NameAttribute } from "./name.js";
import { Oid } from "./oids.js";

/** Requests larger than this are refused before parsing (a 4096-bit RSA CSR with SANs is ~1.5 KiB). */
export const maxCsrBytes = 64 * 1024;

export interface CertificateRequest {
  /** The request's DER. */
  readonly raw: Buffer;
  /** Subject Name DER, as requested (SPIRE uses it only where the caller asks for it). */
  readonly subjectRaw: Buffer;
  readonly subject: readonly NameAttribute[];
  /** SubjectPublicKeyInfo DER, to copy into the certificate's TBS unchanged. */
  readonly spki: Buffer;
  /** The subjectPublicKey bits, for the SKI. */
  readonly subjectPublicKey: Buffer;
  readonly publicKeyAlgorithm: PublicKeyAlgorithm;
  /** The requested URI SAN, if any (at most one is accepted). */
  readonly uriSan: string | undefined;
  readonly dnsSans: readonly string[];
  /** The public key, imported once for the signature check. */
  readonly publicKey: KeyObject;
}

type SignatureCheck = { readonly hash: "sha256" | "sha384" | "sha512"; readonly keyType: "ec" | "rsa"; readonly name: string };
const signatureAlgorithms: Record<string, SignatureCheck> = {
  [Oid.ecdsaWithSha256]: { hash: "sha256", keyType: "ec", name: "ECDSA-SHA256" },
  [Oid.ecdsaWithSha384]: { hash: "sha384", keyType: "ec", name: "ECDSA-SHA384" },
  [Oid.ecdsaWithSha512]: { hash: "sha512", keyType: "ec", name: "ECDSA-SHA512" },
  [Oid.sha256WithRsa]: { hash: "sha256", keyType: "rsa", name: "SHA256-RSA" },
  [Oid.sha384WithRsa]: { hash: "sha384", keyType: "rsa", name: "SHA384-RSA" },
  [Oid.sha512WithRsa]: { hash: "sha512", keyType: "rsa", name: "SHA512-RSA" },
};

/**
 * Parses a CSR given as DER or PEM, verifies its signature and applies the SVID rules SPIRE
 * applies to requests (at most one URI SAN; SPIRE's MintX509SVID wording). Whether a URI SAN is
 * required, and which, is the caller's policy: agents' attestation CSRs carry none.
 */
export function parseCsr(input: Buffer | Uint8Array | string): CertificateRequest {
  let parsed: ParsedRequest;
  try {
    parsed = parseStructure(toDer(input));
  } catch (err) {
    if (err instanceof CsrError) throw err;
    if (err instanceof UnsupportedKeyError) throw new CsrError("unsupported", `unsupported CSR: ${err.message}`);
    throw new CsrError("malformed", `malformed CSR: ${messageOf(err)}`);
  }
  const { tbs, signature, check, jwk, ...request } = parsed;

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: jwk, format: "jwk" });
  } catch (err) {
    throw new CsrError("malformed", `malformed CSR: public key rejected: ${messageOf(err)}`);
  }
  let ok: boolean;
  try {
    ok = cryptoVerify(check.hash, tbs, { key: publicKey, dsaEncoding: "der" }, signature);
  } catch (err) {
    throw new CsrError("signature", `failed to verify CSR signature: ${messageOf(err)}`);
  }
  // Go's CheckSignature wording, which SPIRE puts after the colon.
  if (!ok) {
    const goReason = check.keyType === "ec" ? "x509: ECDSA verification failure" : "crypto/rsa: verification error";
    throw new CsrError("signature", `failed to verify CSR signature: ${goReason}`);
  }
  return { ...request, publicKey };
}

type ParsedRequest = Omit<CertificateRequest, "publicKey"> & {
  readonly tbs: Buffer;
  readonly signature: Buffer;
  readonly check: SignatureCheck;
  readonly jwk: JsonWebKey;
};

function parseStructure(der: Buffer): ParsedRequest {
  const outer = parseOne(der, Tag.sequence, "certification request");
  const [info, sigAlg, sigBits, extra] = children(outer, "certification request", 4);
  if (extra) throw new DerError("certification request: unexpected element after signature");
  const [version, subject, spkiElement, attributes, more] = children(expectTag(info, Tag.sequence, "request info"), "request info", 5);
  if (more) throw new DerError("request info: unexpected element after attributes");
  if (readInteger(version, "version", 4) !== 0n) throw new DerError("version: expected 0 (v1)");
  const subjectAttributes = parseName(expectTag(subject, Tag.sequence, "subject"), "subject");
  const spki = parseSpki(expectTag(spkiElement, Tag.sequence, "public key info"));

  // attributes [0] IMPLICIT SET OF Attribute; some encoders omit it when empty.
  let uriSan: string | undefined;
  let dnsSans: string[] = [];
  let sawExtensionRequest = false;
  if (attributes) {
    expectTag(attributes, 0xa0, "attributes");
    for (const attribute of children(attributes, "attributes", 16)) {
      const [type, values, over] = children(expectTag(attribute, Tag.sequence, "attribute"), "attribute", 3);
      if (over) throw new DerError("attribute: unexpected element");
      if (readOid(type, "attribute type") !== Oid.extensionRequest) continue;
      if (sawExtensionRequest) throw new DerError("more than one extension request attribute");
      sawExtensionRequest = true;
      const [extensions, second] = children(expectTag(values, Tag.set, "extension request"), "extension request", 2);
      if (second) throw new DerError("extension request: more than one value");
      ({ uriSan, dnsSans } = parseRequestedExtensions(expectTag(extensions, Tag.sequence, "extensions")));
    }
  }

  const [sigOidElement, params] = children(expectTag(sigAlg, Tag.sequence, "signature algorithm"), "signature algorithm", 2);
  const sigOid = readOid(sigOidElement, "signature algorithm");
  const check = signatureAlgorithms[sigOid];
  if (!check) {
    throw new UnsupportedKeyError(
      `unsupported signature algorithm ${sigOid}${sigOid === Oid.rsaPss ? " (RSASSA-PSS)" : ""}: expected ECDSA or PKCS#1 v1.5 RSA with SHA-256/384/512`,
    );
  }
  if (check.keyType !== spki.algorithm.type) {
    throw new DerError(`signature algorithm ${check.name} does not match the ${spki.algorithm.type.toUpperCase()} public key`);
  }
  if (params && (check.keyType === "ec" || params.tag !== Tag.null || params.contents.length !== 0)) {
    throw new DerError(`signature algorithm ${check.name}: unexpected parameters`);
  }

  return {
    raw: der,
    subjectRaw: subject!.raw,
    subject: subjectAttributes,
    spki: spki.raw,
    subjectPublicKey: spki.subjectPublicKey,
    publicKeyAlgorithm: spki.algorithm,
    uriSan,
    dnsSans,
    tbs: info!.raw,
    signature: readBitStringBytes(sigBits, "signature"),
    check,
    jwk: spki.jwk,
  };
}

function parseRequestedExtensions(extensions: DerElement): { uriSan: string | undefined; dnsSans: string[] } {
  let uris: string[] = [];
  let dnsSans: string[] = [];
  let sawSan = false;
  for (const ext of children(extensions, "extensions", 32)) {
    const parts = children(expectTag(ext, Tag.sequence, "extension"), "extension", 4);
    if (parts.length < 2 || parts.length > 3) throw new DerError("extension: expected 2 or 3 elements");
    const id = readOid(parts[0], "extension id");
    if (parts.length === 3) readBoolean(parts[1], "extension criticality");
    const value = expectTag(parts[parts.length - 1], Tag.octetString, "extension value");
    if (id !== Oid.subjectAltName) continue;
    if (sawSan) throw new DerError("more than one subjectAltName extension");
    sawSan = true;
    const names = parseOne(value.contents, Tag.sequence, "subjectAltName");
    for (const name of children(names, "subjectAltName", 256)) {
      if (name.tag === 0x86) uris.push(ia5(name, "URI SAN"));
      else if (name.tag === 0x82) dnsSans.push(ia5(name, "DNS SAN"));
      else if ((name.tag & 0xc0) !== 0x80) throw new DerError("subjectAltName: entry is not a GeneralName");
    }
  }
  if (uris.length > 1) throw new CsrError("invalid", "only one URI SAN is expected");
  return { uriSan: uris[0], dnsSans };
}

function ia5(element: DerElement, what: string): string {
  for (const byte of element.contents) {
    if (byte > 0x7f) throw new DerError(`${what}: not an IA5String`);
  }
  return element.contents.toString("latin1");
}

const pemPattern = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]*?)-----END (NEW )?CERTIFICATE REQUEST-----/;

function toDer(input: Buffer | Uint8Array | string): Buffer {
  const text = typeof input === "string" ? input : undefined;
  if (typeof input !== "string" && !(input instanceof Uint8Array)) throw new CsrError("malformed", "malformed CSR: expected DER bytes or PEM text");
  const bytes = typeof input === "string" ? undefined : Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (bytes && bytes[0] === Tag.sequence) {
    if (bytes.length > maxCsrBytes) throw new CsrError("malformed", `malformed CSR: larger than ${maxCsrBytes} bytes`);
    return bytes;
  }
  const pemText = text ?? (bytes!.length > maxCsrBytes * 2 ? "" : bytes!.toString("latin1"));
  if (pemText.length > maxCsrBytes * 2) throw new CsrError("malformed", `malformed CSR: larger than ${maxCsrBytes} bytes`);
  const m = pemPattern.exec(pemText);
  if (!m) throw new CsrError("malformed", "malformed CSR: neither DER nor a PEM CERTIFICATE REQUEST block");
  const der = Buffer.from(m[2]!.replace(/\s+/g, ""), "base64");
  if (der.length === 0) throw new CsrError("malformed", "malformed CSR: empty PEM block");
  if (der.length > maxCsrBytes) throw new CsrError("malformed", `malformed CSR: larger than ${maxCsrBytes} bytes`);
  return der;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
