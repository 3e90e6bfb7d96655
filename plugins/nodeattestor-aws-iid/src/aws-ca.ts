/**
 * The certificates that sign instance identity documents, by key type and region: AWS's own
 * (aws-certificates.ts, parsed on first use) or, Signet only, a set the configuration names
 * instead (signet_rsa2048_certificates / signet_rsa1024_certificates), for tests and private
 * AWS-compatible clouds. SPIRE's lookup: RSA-2048 needs the region's certificate; RSA-1024 falls
 * back to AWS's long-standing certificate for regions without their own (embedded set only).
 */
import { X509Certificate } from "node:crypto";
import { rsa1024Certificates, rsa1024DefaultCertificate, rsa2048Certificates } from "./aws-certificates.js";
import { type TrustedCertificate, trustedCertificate } from "./pkcs7.js";

export type KeyType = "rsa1024" | "rsa2048";

export class AwsCertificates {
  private constructor(
    private readonly byRegion: Readonly<Record<KeyType, ReadonlyMap<string, TrustedCertificate>>>,
    private readonly rsa1024Fallback: TrustedCertificate | undefined,
  ) {}

  private static embeddedSet: AwsCertificates | undefined;

  /** AWS's published certificates. */
  static embedded(): AwsCertificates {
    AwsCertificates.embeddedSet ??= new AwsCertificates(
      { rsa1024: parseAll(rsa1024Certificates), rsa2048: parseAll(rsa2048Certificates) },
      trustedCertificate(pemToDer(rsa1024DefaultCertificate)),
    );
    return AwsCertificates.embeddedSet;
  }

  /** Only the given certificates (PEM text by region); no fallback for other regions. */
  static of(pems: Readonly<Record<KeyType, Readonly<Record<string, string>>>>): AwsCertificates {
    return new AwsCertificates({ rsa1024: parseAll(pems.rsa1024), rsa2048: parseAll(pems.rsa2048) }, undefined);
  }

  /** The certificate for `region`, or SPIRE's reason why there is none. */
  forRegion(keyType: KeyType, region: string): TrustedCertificate | { readonly error: string } {
    const cert = this.byRegion[keyType].get(region) ?? (keyType === "rsa1024" ? this.rsa1024Fallback : undefined);
    return cert ?? { error: `unsupported region ${JSON.stringify(region)}` };
  }

  /**
   * Every distinct certificate of a key type: what a signature is tried against before the document
   * is read. The set never changes, so it is worked out once, not per attestation.
   */
  all(keyType: KeyType): readonly TrustedCertificate[] {
    let list = this.distinct.get(keyType);
    if (!list) {
      const seen = new Map<string, TrustedCertificate>();
      for (const c of this.byRegion[keyType].values()) seen.set(c.der.toString("base64"), c);
      if (keyType === "rsa1024" && this.rsa1024Fallback) seen.set(this.rsa1024Fallback.der.toString("base64"), this.rsa1024Fallback);
      list = [...seen.values()];
      this.distinct.set(keyType, list);
    }
    return list;
  }

  private readonly distinct = new Map<KeyType, readonly TrustedCertificate[]>();

  get size(): number {
    return this.byRegion.rsa1024.size + this.byRegion.rsa2048.size;
  }
}

function parseAll(pems: Readonly<Record<string, string>>): Map<string, TrustedCertificate> {
  const byPem = new Map<string, TrustedCertificate>();
  const out = new Map<string, TrustedCertificate>();
  for (const [region, pem] of Object.entries(pems)) {
    let cert = byPem.get(pem);
    if (!cert) {
      cert = trustedCertificate(pemToDer(pem));
      byPem.set(pem, cert);
    }
    out.set(region, cert);
  }
  return out;
}

/** The DER of the first certificate in PEM text; throws with the reason if there is none. */
export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no CERTIFICATE block found");
  const der = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  new X509Certificate(der);
  return der;
}
