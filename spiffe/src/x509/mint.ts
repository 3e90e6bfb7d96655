/**
 * Turning a template into a signed certificate. The signer is abstract, so a cached KeyObject or
 * a KeyManager plugin can sign; only the TBS bytes cross that seam.
 */
import { createPublicKey, sign as cryptoSign, type KeyObject } from "node:crypto";
import { bitString, derNull, explicit, integer, oid, sequence, time } from "./der.js";
import { X509Error } from "./errors.js";
import { Oid } from "./oids.js";
import type { CertificateTemplate } from "./template.js";

/** The algorithms Go's CreateCertificate picks for SPIRE's key types (P-256, P-384, RSA). */
export type SignatureAlgorithm = "ECDSA-SHA256" | "ECDSA-SHA384" | "SHA256-RSA";

export interface X509Signer {
  readonly algorithm: SignatureAlgorithm;
  /** Signs the TBSCertificate DER; ECDSA signatures in DER (ASN.1) form. */
  sign(tbs: Buffer): Buffer | Promise<Buffer>;
}

// ECDSA AlgorithmIdentifiers carry no parameters; RSA ones carry NULL (RFC 5758, RFC 4055).
const algorithmIdentifiers: Record<SignatureAlgorithm, Buffer> = {
  "ECDSA-SHA256": sequence(oid(Oid.ecdsaWithSha256)),
  "ECDSA-SHA384": sequence(oid(Oid.ecdsaWithSha384)),
  "SHA256-RSA": sequence(oid(Oid.sha256WithRsa), derNull),
};
const hashOf: Record<SignatureAlgorithm, "sha256" | "sha384"> = {
  "ECDSA-SHA256": "sha256",
  "ECDSA-SHA384": "sha384",
  "SHA256-RSA": "sha256",
};
const version3 = explicit(0, integer(2));

/** The AlgorithmIdentifier DER of a signature algorithm (certificates and requests alike). */
export function algorithmIdentifierOf(algorithm: SignatureAlgorithm): Buffer {
  return algorithmIdentifiers[algorithm];
}

/** The signature algorithm SPIRE (Go) uses for a private or public key, or an X509Error. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return "ECDSA-SHA256";
    if (curve === "secp384r1") return "ECDSA-SHA384";
    throw new X509Error("signing", `unsupported signing key: EC curve ${curve ?? "unknown"}; expected P-256 or P-384`);
  }
  if (key.asymmetricKeyType === "rsa") return "SHA256-RSA";
  throw new X509Error("signing", `unsupported signing key type ${key.asymmetricKeyType ?? "unknown"}; expected EC or RSA`);
}

/** A signer over a private KeyObject held in memory (keep it cached: importing costs far more than signing). */
export function keyObjectSigner(privateKey: KeyObject): X509Signer {
  if (privateKey.type !== "private") throw new X509Error("signing", "keyObjectSigner needs a private key");
  const algorithm = signatureAlgorithmFor(privateKey);
  const hash = hashOf[algorithm];
  const key = { key: privateKey, dsaEncoding: "der" as const };
  return { algorithm, sign: (tbs) => cryptoSign(hash, tbs, key) };
}

/** SubjectPublicKeyInfo DER of a key (private keys give their public half). Slow (~250 µs): do it once per key. */
export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return pub.export({ type: "spki", format: "der" });
}

/** The TBSCertificate DER for `template`, declaring `algorithm` as its signature algorithm. */
export function encodeTbs(template: CertificateTemplate, algorithm: SignatureAlgorithm): Buffer {
  if (template.serial <= 0n || template.serial >= 1n << 159n) {
    throw new X509Error("invalid-template", "serial number must be positive and at most 20 octets");
  }
  return sequence(
    version3,
    integer(template.serial),
    algorithmIdentifiers[algorithm],
    template.issuer,
    sequence(time(template.notBefore), time(template.notAfter)),
    template.subject,
    template.spki,
    explicit(3, sequence(...template.extensions)),
  );
}

/** Certificate DER from TBS and signature. */
export function assembleCertificate(tbs: Buffer, algorithm: SignatureAlgorithm, signature: Buffer): Buffer {
  return sequence(tbs, algorithmIdentifiers[algorithm], bitString(signature));
}

/** Signs `template` with `signer`; resolves to the certificate DER. */
export async function mintCertificate(template: CertificateTemplate, signer: X509Signer): Promise<Buffer> {
  const tbs = encodeTbs(template, signer.algorithm);
  let signature: Buffer;
  try {
    signature = await signer.sign(tbs);
  } catch (err) {
    throw new X509Error("signing", `failed to sign certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  return assembleCertificate(tbs, signer.algorithm, checkedSignature(signature));
}

/** Like mintCertificate, for signers that answer synchronously (keyObjectSigner). */
export function mintCertificateSync(template: CertificateTemplate, signer: X509Signer): Buffer {
  const tbs = encodeTbs(template, signer.algorithm);
  let signature: Buffer | Promise<Buffer>;
  try {
    signature = signer.sign(tbs);
  } catch (err) {
    throw new X509Error("signing", `failed to sign certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Buffer.isBuffer(signature)) throw new X509Error("signing", "mintCertificateSync needs a signer that returns a Buffer");
  return assembleCertificate(tbs, signer.algorithm, checkedSignature(signature));
}

function checkedSignature(signature: unknown): Buffer {
  if (!Buffer.isBuffer(signature) || signature.length === 0) throw new X509Error("signing", "signer returned an empty or non-Buffer signature");
  return signature;
}
