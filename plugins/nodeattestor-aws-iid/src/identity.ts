/**
 * Proves the instance identity document came from AWS before anything in it is believed, then
 * reads it (SPIRE's unmarshalAndValidateIdentityDocument, in the safer order):
 *
 *   rsa2048 present → the PKCS #7 is verified with AWS's RSA-2048 certificates, and its signed
 *                     content must be the document, byte for byte (a genuine signature of some
 *                     other instance's document proves nothing about this one);
 *   otherwise       → the RSA-1024 PKCS #1 v1.5 SHA-256 signature is verified over the document.
 *
 * SPIRE reads the region from the document first to pick the one certificate to verify with. We
 * verify first, against every certificate of the key type, and only then read the document and
 * require its region's certificate to be one that verified: the same acceptance, without parsing
 * unauthenticated content. Messages and codes are SPIRE's.
 */
import { PluginError } from "@signet/plugin-sdk";
import { type AwsCertificates, type KeyType } from "./aws-ca.js";
import { DocumentError, type InstanceIdentityDocument, parseIdentityDocument } from "./document.js";
import type { AttestationData } from "./payload.js";
import { Pkcs7Error, type SignedData, type TrustedCertificate, parseSignedData, rsaVerify, verifySignedData } from "./pkcs7.js";

export function verifyIdentityDocument(data: AttestationData, certificates: AwsCertificates): InstanceIdentityDocument {
  const keyType: KeyType = data.rsa2048 !== "" ? "rsa2048" : "rsa1024";
  const signature = keyType === "rsa2048" ? data.rsa2048 : data.signature;
  if (signature === "") throw PluginError.invalidArgument("instance identity cryptographic signature is required");
  const document = Buffer.from(data.document, "utf8");

  const signers = keyType === "rsa2048" ? verifyPkcs7(signature, document, certificates.all("rsa2048")) : verifyRsa1024(signature, document, certificates.all("rsa1024"));

  let doc: InstanceIdentityDocument;
  try {
    doc = parseIdentityDocument(data.document);
  } catch (e) {
    if (e instanceof DocumentError) throw PluginError.invalidArgument(`failed to unmarshal the IID: ${e.message}`);
    throw e;
  }
  const regional = certificates.forRegion(keyType, doc.region);
  if ("error" in regional) throw PluginError.internal(`failed to load the AWS CA certificate for region ${JSON.stringify(doc.region)}: ${regional.error}`);
  if (!signers.includes(regional)) {
    // Signed by AWS, but with another region's key than the document names: as SPIRE, which
    // verifies with the named region's certificate only, a failed verification.
    throw PluginError.invalidArgument(
      keyType === "rsa2048"
        ? "failed verification of instance identity cryptographic signature: pkcs7: No certificate for signer"
        : "failed to verify the cryptographic signature: crypto/rsa: verification error",
    );
  }
  return doc;
}

/** The certificates whose key made the PKCS #7 signature over exactly `document`. */
function verifyPkcs7(signature: string, document: Buffer, candidates: readonly TrustedCertificate[]): TrustedCertificate[] {
  const der = pemBody(signature);
  if (!der) throw PluginError.invalidArgument("failed to decode the instance identity cryptographic signature");
  let sd: SignedData;
  try {
    sd = parseSignedData(der);
  } catch (e) {
    if (e instanceof Pkcs7Error) throw PluginError.invalidArgument(`failed to parse the instance identity cryptographic signature: ${e.message}`);
    throw e;
  }
  const verified = candidates.filter((c) => pkcs7Error(sd, [c]) === undefined);
  if (verified.length === 0) {
    // The reason SPIRE would give: its one certificate is the signer's (if AWS's at all).
    const named = candidates.filter((c) => sd.signers.some((s) => s.serialNumber === c.serialNumber && s.issuer.equals(c.issuer)));
    const reason = pkcs7Error(sd, named.slice(0, 1)) ?? "pkcs7: No certificate for signer";
    throw PluginError.invalidArgument(`failed verification of instance identity cryptographic signature: ${reason}`);
  }
  if (!sd.content.equals(document)) throw PluginError.invalidArgument("instance identity document does not match the verified PKCS7 content");
  return verified;
}

function pkcs7Error(sd: SignedData, trusted: readonly TrustedCertificate[]): string | undefined {
  try {
    verifySignedData(sd, trusted);
    return undefined;
  } catch (e) {
    if (e instanceof Pkcs7Error) return e.message;
    throw e;
  }
}

function verifyRsa1024(signature: string, document: Buffer, candidates: readonly TrustedCertificate[]): TrustedCertificate[] {
  const sig = goBase64(signature.replace(/[\r\n]/g, ""));
  if (typeof sig === "number") throw PluginError.invalidArgument(`failed to decode the IID signature: illegal base64 data at input byte ${sig}`);
  const verified = candidates.filter((c) => c.publicKey.asymmetricKeyType === "rsa" && rsaVerify(document, c.publicKey, sig));
  if (verified.length === 0) throw PluginError.invalidArgument("failed to verify the cryptographic signature: crypto/rsa: verification error");
  return verified;
}

/**
 * The bytes of AWS's PKCS #7 text once wrapped in PEM armor, as SPIRE does, and decoded as Go's
 * pem.Decode would (line breaks and spaces ignored, padding required); undefined if it is not.
 */
function pemBody(text: string): Buffer | undefined {
  const bytes = goBase64(text.replace(/[ \t\r\n]/g, ""));
  return typeof bytes === "number" ? undefined : bytes;
}

/** Go's base64.StdEncoding (strict: padding required, no other alphabet); the offset of the first bad byte on failure. */
function goBase64(s: string): Buffer | number {
  const bad = /[^A-Za-z0-9+/=]/.exec(s);
  if (bad) return bad.index;
  const pad = s.indexOf("=");
  if (pad >= 0 && (!/^=*$/.test(s.slice(pad)) || s.length % 4 !== 0 || s.length - pad > 2)) return pad;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return Buffer.from(s, "base64");
}
