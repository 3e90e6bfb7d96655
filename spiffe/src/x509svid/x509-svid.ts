/**
 * X509-SVIDs as a workload holds them: the certificate chain (leaf first) with its private key,
 * parsed and checked the way go-spiffe's x509svid.ParseRaw does on every Workload API message.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from "node:crypto";
import { parseCertificates } from "../bundle/authorities.js";
import { SpiffeId } from "../id/index.js";
import { certificateFacts, KeyUsage } from "./certificate-facts.js";

/** An X509-SVID that failed go-spiffe's checks; messages keep go-spiffe's wording. */
export class X509SvidError extends Error {
  override readonly name = "X509SvidError";
}

/** Something that always has an X509-SVID to present (an X509Source, or a fixed X509Svid). */
export interface X509SvidSource {
  getX509Svid(): X509Svid;
}

export class X509Svid implements X509SvidSource {
  constructor(
    readonly spiffeId: SpiffeId,
    /** Leaf first, then the intermediates up to (not including) a root. */
    readonly certificates: readonly X509Certificate[],
    readonly privateKey: KeyObject,
    /** Operator label from the Workload API ("" when none). */
    readonly hint: string = "",
  ) {}

  /**
   * go-spiffe's ParseRaw: `certDer` is one or more DER certificates back to back, `keyDer` an
   * unencrypted PKCS#8 key matching the leaf. Throws X509SvidError.
   */
  static parseRaw(certDer: Uint8Array, keyDer: Uint8Array, hint = ""): X509Svid {
    let certificates: X509Certificate[];
    try {
      certificates = parseCertificates(certDer);
    } catch (err) {
      throw new X509SvidError(`x509svid: cannot parse DER encoded certificate: ${(err as Error).message}`);
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: Buffer.from(keyDer), format: "der", type: "pkcs8" });
    } catch (err) {
      throw new X509SvidError(`x509svid: cannot parse DER encoded private key: ${(err as Error).message}`);
    }
    let spiffeId: SpiffeId;
    try {
      spiffeId = validateChain(certificates);
    } catch (err) {
      throw new X509SvidError(`x509svid: certificate validation failed: ${(err as Error).message}`);
    }
    if (!(certificates[0] as X509Certificate).checkPrivateKey(privateKey)) {
      throw new X509SvidError("x509svid: private key validation failed: leaf certificate does not match private key");
    }
    return new X509Svid(spiffeId, certificates, privateKey, hint);
  }

  /** An SVID is its own source (go-spiffe's svid.GetX509SVID), so a fixed SVID can feed the TLS helpers. */
  getX509Svid(): X509Svid {
    return this;
  }

  get leaf(): X509Certificate {
    return this.certificates[0] as X509Certificate;
  }

  /** The leaf's notAfter. */
  get expiresAt(): Date {
    return certificateFacts(this.leaf).notAfter;
  }

  /** The chain as PEM, leaf first (Node's `cert` option). */
  certificatesPem(): string {
    return this.certificates.map((c) => c.toString()).join("");
  }

  /** The key as PKCS#8 PEM (Node's `key` option). Never log it. */
  privateKeyPem(): string {
    return this.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  }
}

/**
 * The SPIFFE ID of a leaf with exactly one URI SAN that is a SPIFFE ID; the messages are
 * go-spiffe's (getIDFromCertificate).
 */
export function spiffeIdOfLeaf(leaf: X509Certificate): SpiffeId {
  const { uris } = certificateFacts(leaf);
  if (uris.length === 0) throw new X509SvidError("certificate contains no URI SAN");
  if (uris.length > 1) throw new X509SvidError("certificate contains more than one URI SAN");
  return SpiffeId.parse(uris[0] as string);
}

function validateChain(certificates: readonly X509Certificate[]): SpiffeId {
  const [leaf, ...signers] = certificates;
  if (!leaf) throw new Error("no certificates found");
  let id: SpiffeId;
  try {
    id = spiffeIdOfLeaf(leaf);
  } catch (err) {
    throw new Error(`cannot get leaf certificate SPIFFE ID: ${(err as Error).message}`);
  }
  if (id.isTrustDomainId) throw new Error("leaf certificate SPIFFE ID must have a non-root path");
  const facts = certificateFacts(leaf);
  if (facts.isCa) throw new Error("leaf certificate must not have CA flag set to true");
  if (!(facts.keyUsage & KeyUsage.digitalSignature)) throw new Error("leaf certificate must have 'digitalSignature' set as key usage");
  if (facts.keyUsage & KeyUsage.keyCertSign) throw new Error("leaf certificate must not have 'keyCertSign' set as key usage");
  if (facts.keyUsage & KeyUsage.cRLSign) throw new Error("leaf certificate must not have 'cRLSign' set as key usage");
  for (const signer of signers) {
    const f = certificateFacts(signer);
    if (!f.isCa) throw new Error("signing certificate must have CA flag set to true");
    if (!(f.keyUsage & KeyUsage.keyCertSign)) throw new Error("signing certificate must have 'keyCertSign' set as key usage");
  }
  return id;
}
