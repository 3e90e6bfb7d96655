/**
 * X509-SVID verification as go-spiffe's x509svid.Verify does it: exactly one
 * URI SAN holding a SPIFFE ID, a leaf that is no CA and cannot sign
 * certificates or CRLs, and a chain through the peer's own intermediates to
 * a root of the bundle of the ID's trust domain, every certificate within
 * its validity period. Messages follow go-spiffe's ("x509svid: …").
 */
import type { X509Certificate } from "node:crypto";
import { SpiffeId, type TrustDomain } from "@signet/spiffe";
import type { X509BundleSource } from "./bundle-source.js";
import { readCertExtensions, type CertExtensions } from "./cert-extensions.js";

export class SvidVerifyError extends Error {
  constructor(message: string) {
    super(`x509svid: ${message}`);
    this.name = "SvidVerifyError";
  }
}

export interface VerifiedSvid {
  readonly id: SpiffeId;
  /** Leaf first, then the certificates that led to the root (root excluded). */
  readonly chain: readonly X509Certificate[];
}

export interface VerifyOptions {
  readonly now: Date;
  /**
   * Accept a leaf past its notAfter (everything else still checked), so the
   * agent check can answer AGENT_EXPIRED instead of failing authentication.
   */
  readonly allowExpiredLeaf?: boolean;
}

const maxChainDepth = 10;

/** The SPIFFE ID of a certificate's single URI SAN (go-spiffe's IDFromCert). */
export function idFromCert(cert: X509Certificate, ext: CertExtensions = extensionsOf(cert)): SpiffeId {
  if (ext.uris.length === 0) throw new Error("certificate contains no URI SAN");
  if (ext.uris.length > 1) throw new Error("certificate contains more than one URI SAN");
  return SpiffeId.parse(ext.uris[0]!);
}

export async function verifyX509Svid(certs: readonly X509Certificate[], bundles: X509BundleSource, options: VerifyOptions): Promise<VerifiedSvid> {
  const leaf = certs[0];
  if (!leaf) throw new SvidVerifyError("empty certificates chain");
  let leafExt: CertExtensions;
  let id: SpiffeId;
  try {
    leafExt = extensionsOf(leaf);
    id = idFromCert(leaf, leafExt);
  } catch (err) {
    throw new SvidVerifyError(`could not get leaf SPIFFE ID: ${messageOf(err)}`);
  }
  if (leafExt.isCa) throw new SvidVerifyError("leaf certificate with CA flag set to true");
  if (leafExt.keyUsage?.certSign) throw new SvidVerifyError("leaf certificate with KeyCertSign key usage");
  if (leafExt.keyUsage?.crlSign) throw new SvidVerifyError("leaf certificate with KeyCrlSign key usage");
  if (leafExt.unhandledCritical.length > 0) {
    throw new SvidVerifyError(`could not verify leaf certificate: x509: unhandled critical extension (${leafExt.unhandledCritical.join(", ")})`);
  }
  const roots = await rootsOf(bundles, id.trustDomain);
  const now = options.now.getTime();
  if (!withinValidity(leaf, now, options.allowExpiredLeaf === true)) {
    throw new SvidVerifyError("could not verify leaf certificate: x509: certificate has expired or is not yet valid");
  }
  const path = buildPath(leaf, certs.slice(1), roots, now);
  if (!path) {
    throw new SvidVerifyError("could not verify leaf certificate: x509: certificate signed by unknown authority");
  }
  return { id, chain: path };
}

async function rootsOf(bundles: X509BundleSource, td: TrustDomain): Promise<readonly X509Certificate[]> {
  let roots: readonly X509Certificate[] | undefined;
  try {
    roots = await bundles.x509Authorities(td);
  } catch (err) {
    throw new SvidVerifyError(`could not get X509 bundle: get bundle from datastore: ${messageOf(err)}`);
  }
  if (!roots) throw new SvidVerifyError(`could not get X509 bundle: no bundle found for trust domain "${td.name}"`);
  return roots;
}

/**
 * Depth-first search for a chain from `cert` to a root, using intermediates
 * the peer sent. Every issuer must be a CA allowed to sign certificates,
 * respect its path length, be within its validity period and verify the
 * signature of the certificate below it.
 */
function buildPath(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], now: number): X509Certificate[] | undefined {
  const walk = (cert: X509Certificate, below: X509Certificate[]): X509Certificate[] | undefined => {
    if (below.length > maxChainDepth) return undefined;
    for (const root of roots) {
      if (issues(root, cert, below.length, now)) return [...below, cert];
    }
    for (const candidate of intermediates) {
      if (candidate === cert || below.includes(candidate)) continue;
      if (!issues(candidate, cert, below.length, now)) continue;
      const found = walk(candidate, [...below, cert]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(leaf, []);
}

/** `issuer` signed `cert`, and may sign with `casBelow` CA certificates under it. */
function issues(issuer: X509Certificate, cert: X509Certificate, casBelow: number, now: number): boolean {
  let ext: CertExtensions;
  try {
    ext = extensionsOf(issuer);
  } catch {
    return false;
  }
  if (!ext.isCa) return false;
  if (ext.keyUsage && !ext.keyUsage.certSign) return false;
  if (ext.maxPathLen !== undefined && casBelow > ext.maxPathLen) return false;
  if (!withinValidity(issuer, now, false)) return false;
  if (!cert.checkIssued(issuer)) return false;
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function withinValidity(cert: X509Certificate, now: number, ignoreNotAfter: boolean): boolean {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return false;
  return now >= notBefore && (ignoreNotAfter || now <= notAfter);
}

const extensionCache = new WeakMap<X509Certificate, CertExtensions>();

function extensionsOf(cert: X509Certificate): CertExtensions {
  let ext = extensionCache.get(cert);
  if (!ext) {
    ext = readCertExtensions(cert.raw);
    extensionCache.set(cert, ext);
  }
  return ext;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A certificate's notAfter as a Date. */
export function notAfterOf(cert: X509Certificate): Date {
  return new Date(Date.parse(cert.validTo));
}

/** A certificate's serial number as a decimal string (how SPIRE stores agent serials). */
export function serialOf(cert: X509Certificate): string {
  return BigInt(`0x${cert.serialNumber}`).toString(10);
}
