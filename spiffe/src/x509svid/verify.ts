/**
 * Peer authentication with X509-SVIDs (go-spiffe's x509svid.Verify): the leaf must be an SVID,
 * and must chain, through the certificates the peer presented, to an authority in the bundle
 * of the leaf's own trust domain. Path building follows Go's crypto/x509: signatures,
 * validity windows, cA on intermediates, pathLenConstraint and unknown critical extensions;
 * extended key usage is not enforced (Go is asked for ExtKeyUsageAny).
 */
import type { X509Certificate } from "node:crypto";
import type { SpiffeId } from "../id/index.js";
import type { X509BundleSource } from "../x509bundle/index.js";
import { certificateFacts, KeyUsage } from "./certificate-facts.js";
import { spiffeIdOfLeaf, X509SvidError } from "./x509-svid.js";

export interface VerifiedX509Svid {
  readonly spiffeId: SpiffeId;
  /** Each chain runs from the leaf to an authority of the bundle. */
  readonly verifiedChains: readonly (readonly X509Certificate[])[];
}

/** Longest chain we try to build (leaf + intermediates + root). */
const maxChainLength = 10;

/** Verifies a presented chain (leaf first) against `bundles`; throws X509SvidError with go-spiffe's wording. */
export function verifyX509Svid(chain: readonly X509Certificate[], bundles: X509BundleSource, now: Date = new Date()): VerifiedX509Svid {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new X509SvidError("x509svid: empty certificates chain");
  let spiffeId: SpiffeId;
  try {
    spiffeId = spiffeIdOfLeaf(leaf);
  } catch (err) {
    throw new X509SvidError(`x509svid: could not get SPIFFE ID: ${(err as Error).message}`);
  }
  const facts = certificateFacts(leaf);
  if (facts.isCa) throw new X509SvidError("x509svid: leaf certificate with CA flag set to true");
  if (facts.keyUsage & KeyUsage.keyCertSign) throw new X509SvidError("x509svid: leaf certificate with KeyCertSign key usage");
  if (facts.keyUsage & KeyUsage.cRLSign) throw new X509SvidError("x509svid: leaf certificate with KeyCrlSign key usage");
  let roots: readonly X509Certificate[];
  try {
    roots = bundles.getX509BundleForTrustDomain(spiffeId.trustDomain).x509Authorities;
  } catch (err) {
    throw new X509SvidError(`x509svid: could not get X509 bundle: ${(err as Error).message}`);
  }
  try {
    const verifiedChains = buildChains(leaf, intermediates, roots, now);
    return { spiffeId, verifiedChains };
  } catch (err) {
    throw new X509SvidError(`x509svid: could not verify leaf certificate: ${(err as Error).message}`);
  }
}

function buildChains(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): X509Certificate[][] {
  const leafProblem = validityProblem(leaf, now);
  if (leafProblem) throw new Error(leafProblem);
  let lastProblem: string | undefined;
  const chains: X509Certificate[][] = [];

  const extend = (chain: X509Certificate[]): void => {
    const current = chain[chain.length - 1] as X509Certificate;
    for (const root of roots) {
      if (!issues(root, current)) continue;
      const problem = validityProblem(root, now) ?? pathLengthProblem(root, chain);
      if (problem) lastProblem = problem;
      else chains.push([...chain, root]);
    }
    if (chain.length + 1 >= maxChainLength) return;
    for (const candidate of intermediates) {
      if (chain.some((c) => c.raw.equals(candidate.raw)) || roots.some((r) => r.raw.equals(candidate.raw))) continue;
      if (!issues(candidate, current)) continue;
      const facts = certificateFacts(candidate);
      const problem = !facts.isCa
        ? "x509: certificate is not authorized to sign other certificates"
        : (validityProblem(candidate, now) ?? pathLengthProblem(candidate, chain));
      if (problem) lastProblem = problem;
      else extend([...chain, candidate]);
    }
  };
  extend([leaf]);
  if (chains.length === 0) throw new Error(lastProblem ?? "x509: certificate signed by unknown authority");
  return chains;
}

/** Whether `parent` issued `child`: names and key identifiers match and the signature verifies. */
function issues(parent: X509Certificate, child: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  let facts;
  try {
    facts = certificateFacts(cert);
  } catch (err) {
    return `x509: malformed certificate: ${(err as Error).message}`;
  }
  if (facts.unhandledCritical.length > 0) return "x509: unhandled critical extension";
  if (now < facts.notBefore || now > facts.notAfter) {
    const when = now > facts.notAfter ? `is after ${facts.notAfter.toISOString()}` : `is before ${facts.notBefore.toISOString()}`;
    return `x509: certificate has expired or is not yet valid: current time ${now.toISOString()} ${when}`;
  }
  return undefined;
}

/** `chain` holds the certificates below `signer`: all but its first are intermediates. */
function pathLengthProblem(signer: X509Certificate, chain: readonly X509Certificate[]): string | undefined {
  const max = certificateFacts(signer).maxPathLength;
  if (max !== undefined && chain.length - 1 > max) return "x509: too many intermediates for path length constraint";
  return undefined;
}
