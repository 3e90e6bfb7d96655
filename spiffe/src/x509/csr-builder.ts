/**
 * Building PKCS#10 certificate requests, shaped as Go's
 * x509.CreateCertificateRequest shapes them (what SPIRE's agent sends):
 * version 0, the subject, the SubjectPublicKeyInfo, and an extensionRequest
 * attribute carrying the subjectAltName when there are SANs.
 */
import { type KeyObject, createPublicKey } from "node:crypto";
import { bitString, implicit, integer, octetString, oid, sequence, set } from "./der.js";
import { X509Error } from "./errors.js";
import { defaultX509SvidSubject, type DistinguishedName, encodeName } from "./name.js";
import { algorithmIdentifierOf, keyObjectSigner, type SignatureAlgorithm, type X509Signer } from "./mint.js";
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
  const signer = keyObjectSigner(privateKey);
  const info = requestInfo(params, params.spki ?? createPublicKey(privateKey).export({ type: "spki", format: "der" }));
  return signedRequest(info, signer.algorithm, signer.sign(info) as Buffer);
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
  const info = requestInfo(params, params.spki);
  return signedRequest(info, signer.algorithm, await signer.sign(info));
}

/** CertificationRequestInfo: version 0, subject, SPKI, and the SANs as an extensionRequest attribute. */
function requestInfo(params: Omit<CsrParams, "privateKey" | "spki">, spki: Buffer): Buffer {
  return sequence(
    integer(0),
    encodeName(params.subject ?? defaultX509SvidSubject),
    spki,
    implicit(0, attributes(params.dnsNames ?? [], params.uriSans ?? []), true),
  );
}

function signedRequest(info: Buffer, algorithm: SignatureAlgorithm, signature: Buffer): Buffer {
  if (!Buffer.isBuffer(signature) || signature.length === 0) throw new X509Error("signing", "signer returned an empty signature");
  return sequence(info, algorithmIdentifierOf(algorithm), bitString(signature));
}

function attributes(dnsNames: readonly string[], uris: readonly string[]): Buffer {
  if (dnsNames.length === 0 && uris.length === 0) return Buffer.alloc(0);
  const names = [
    ...dnsNames.map((name) => implicit(2, Buffer.from(name, "latin1"))),
    ...uris.map((uri) => implicit(6, Buffer.from(uri, "latin1"))),
  ];
  const san = sequence(oid(Oid.subjectAltName), octetString(sequence(...names)));
  return sequence(oid(Oid.extensionRequest), set(sequence(san)));
}
