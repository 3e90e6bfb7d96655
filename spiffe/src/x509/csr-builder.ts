/**
 * Building PKCS#10 certificate requests, shaped as Go's
 * x509.CreateCertificateRequest shapes them (what SPIRE's agent sends):
 * version 0, the subject, the SubjectPublicKeyInfo, and an extensionRequest
 * attribute carrying the subjectAltName when there are SANs.
 */
import { type KeyObject, createPublicKey, sign as cryptoSign } from "node:crypto";
import { bitString, derNull, implicit, integer, octetString, oid, sequence, set } from "./der.js";
import { X509Error } from "./errors.js";
import { defaultX509SvidSubject, type DistinguishedName, encodeName } from "./name.js";
import type { X509Signer } from "./mint.js";
import { Oid } from "./oids.js";

export interface CsrParams {
  /** The key the request is for; it also signs the request (EC P-256/P-384 or RSA). */
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER of the key, if the caller has it already (saves an export). */
  readonly spki?: Buffer;
  /** Default C=US, O=SPIRE (the agent's workload and attestation CSRs). */
  readonly subject?: DistinguishedName;
  /** URI SANs, e.g. the SPIFFE ID a workload SVID is requested for. */
  readonly uriSans?: readonly string[];
  readonly dnsNames?: readonly string[];
}

/** A DER-encoded PKCS#10 request signed with `privateKey`. */
export function createCsr(params: CsrParams): Buffer {
  const { privateKey } = params;
  if (privateKey.type !== "private") throw new X509Error("signing", "createCsr needs a private key");
  const { hash, identifier } = signatureFor(privateKey);
  const spki = params.spki ?? createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const info = sequence(
    integer(0),
    encodeName(params.subject ?? defaultX509SvidSubject),
    spki,
    implicit(0, attributes(params.dnsNames ?? [], params.uriSans ?? []), true),
  );
  const signature = cryptoSign(hash, info, { key: privateKey, dsaEncoding: "der" });
  return sequence(info, identifier, bitString(signature));
}

/** What createCsrWithSigner needs: the key's SPKI, and a signer holding the private half elsewhere (a KeyManager). */
export interface ExternalCsrParams extends Omit<CsrParams, "privateKey" | "spki"> {
  readonly spki: Buffer;
}

/**
 * Like createCsr, for a key whose private half lives elsewhere (the server CA's key in a KeyManager
 * plugin, signing an UpstreamAuthority CSR). `signer` signs the CertificationRequestInfo DER.
 */
export async function createCsrWithSigner(params: ExternalCsrParams, signer: X509Signer): Promise<Buffer> {
  const info = sequence(
    integer(0),
    encodeName(params.subject ?? defaultX509SvidSubject),
    params.spki,
    implicit(0, attributes(params.dnsNames ?? [], params.uriSans ?? []), true),
  );
  const signature = await signer.sign(info);
  if (!Buffer.isBuffer(signature) || signature.length === 0) throw new X509Error("signing", "signer returned an empty signature");
  return sequence(info, signatureIdentifiers[signer.algorithm], bitString(signature));
}

const signatureIdentifiers: Record<X509Signer["algorithm"], Buffer> = {
  "ECDSA-SHA256": sequence(oid(Oid.ecdsaWithSha256)),
  "ECDSA-SHA384": sequence(oid(Oid.ecdsaWithSha384)),
  "SHA256-RSA": sequence(oid(Oid.sha256WithRsa), derNull),
};

function attributes(dnsNames: readonly string[], uris: readonly string[]): Buffer {
  if (dnsNames.length === 0 && uris.length === 0) return Buffer.alloc(0);
  const names = [
    ...dnsNames.map((name) => implicit(2, Buffer.from(name, "latin1"))),
    ...uris.map((uri) => implicit(6, Buffer.from(uri, "latin1"))),
  ];
  const san = sequence(oid(Oid.subjectAltName), octetString(sequence(...names)));
  return sequence(oid(Oid.extensionRequest), set(sequence(san)));
}

function signatureFor(key: KeyObject): { hash: "sha256" | "sha384"; identifier: Buffer } {
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return { hash: "sha256", identifier: sequence(oid(Oid.ecdsaWithSha256)) };
    if (curve === "secp384r1") return { hash: "sha384", identifier: sequence(oid(Oid.ecdsaWithSha384)) };
    throw new X509Error("signing", `unsupported EC curve ${curve ?? "unknown"}; expected P-256 or P-384`);
  }
  if (key.asymmetricKeyType === "rsa") return { hash: "sha256", identifier: sequence(oid(Oid.sha256WithRsa), derNull) };
  throw new X509Error("signing", `unsupported key type ${key.asymmetricKeyType ?? "unknown"}; expected EC or RSA`);
}

