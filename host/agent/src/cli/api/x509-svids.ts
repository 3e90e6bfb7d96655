/**
 * An X509SVIDResponse read the way `spire-agent api fetch x509` reads it
 * before printing (parseAndValidateX509SVIDResponse) and the way go-spiffe's
 * watcher reads it for `api watch` (parseX509Context), with their messages.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from "node:crypto";
import type { X509SVIDResponse } from "@signet/proto/workload/workload";
import { BundleError, parseCertificates, SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";
import { CliError, goQuote } from "@signet/host-common";

/** One SVID ready to print or write. */
export interface X509Svid {
  readonly spiffeId: string;
  readonly hint: string;
  /** Leaf first. */
  readonly certificates: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  readonly bundle: readonly X509Certificate[];
  /** By the key the response used ("spiffe://td" for fetch, the bare name for watch). */
  readonly federatedBundles: ReadonlyMap<string, readonly X509Certificate[]>;
}

/** `api fetch x509`: parse every entry, then verify each SVID against its own bundle. */
export function parseAndValidateX509SvidResponse(resp: X509SVIDResponse, now = new Date()): X509Svid[] {
  if (resp.svids.length === 0) throw new CliError("workload response contains no svids");
  const federated = new Map<string, X509Certificate[]>();
  for (const id of Object.keys(resp.federatedBundles).sort()) {
    let certs: X509Certificate[];
    try {
      certs = parseCertificates(resp.federatedBundles[id]!);
    } catch (e) {
      throw new CliError(`failed to parse bundle for federated domain ${goQuote(id)}: ${reason(e)}`);
    }
    if (certs.length === 0) throw new CliError(`no certificates in bundle for federated domain ${goQuote(id)}`);
    federated.set(id, certs);
  }
  const svids = resp.svids.map((s, i) => {
    try {
      const certificates = parseCertificates(s.x509Svid);
      if (certificates.length === 0) throw new Error("no certificates found");
      const privateKey = parsePkcs8(s.x509SvidKey, "failed to parse private key: ");
      let bundle: X509Certificate[];
      try {
        bundle = parseCertificates(s.bundle);
      } catch (e) {
        throw new Error(`failed to parse trust bundle: ${reason(e)}`);
      }
      if (bundle.length === 0) throw new Error("no certificates in trust bundle");
      return { spiffeId: s.spiffeId, hint: s.hint, certificates, privateKey, bundle, federatedBundles: federated };
    } catch (e) {
      throw new CliError(`failed to parse svid entry ${i} for spiffe id ${goQuote(s.spiffeId)}: ${reason(e)}`);
    }
  });
  for (const svid of svids) validateX509Svid(svid, now);
  return svids;
}

/** `api watch`: go-spiffe's X509Context (first SVID per hint), bundles keyed by bare trust domain name. */
export function parseX509Context(resp: X509SVIDResponse): X509Svid[] {
  if (resp.svids.length === 0) throw new CliError("no SVIDs in response");
  const hints = new Set<string>();
  const parsed: { spiffeId: string; certificates: X509Certificate[]; privateKey: KeyObject }[] = [];
  for (const s of resp.svids) {
    if (s.hint !== "" && hints.has(s.hint)) continue;
    hints.add(s.hint);
    let certificates: X509Certificate[];
    try {
      certificates = parseCertificates(s.x509Svid);
    } catch (e) {
      throw new CliError(`x509svid: cannot parse DER encoded certificate: ${reason(e)}`);
    }
    const privateKey = parsePkcs8(s.x509SvidKey, "x509svid: cannot parse DER encoded private key: ");
    if (certificates.length === 0) throw new CliError("x509svid: certificate validation failed: no certificates found");
    let id: SpiffeId;
    try {
      id = leafId(certificates[0]!);
    } catch (e) {
      throw new CliError(`x509svid: certificate validation failed: cannot get leaf certificate SPIFFE ID: ${reason(e)}`);
    }
    if (id.isTrustDomainId) throw new CliError("x509svid: certificate validation failed: leaf certificate SPIFFE ID must have a non-root path");
    if (certificates[0]!.ca) throw new CliError("x509svid: certificate validation failed: leaf certificate must not have CA flag set to true");
    if (!certificates[0]!.checkPrivateKey(privateKey)) {
      throw new CliError("x509svid: private key validation failed: leaf certificate does not match private key");
    }
    parsed.push({ spiffeId: id.toString(), certificates, privateKey });
  }
  // x509bundle.Set: one bundle per trust domain, later entries replacing earlier ones.
  const bundles = new Map<string, X509Certificate[]>();
  const addBundle = (idText: string, der: Uint8Array) => {
    let td: TrustDomain;
    try {
      td = TrustDomain.parse(idText);
    } catch (e) {
      throw new CliError(e instanceof TrustDomainError ? e.reason : reason(e));
    }
    try {
      bundles.set(td.name, parseCertificates(der));
    } catch (e) {
      throw new CliError(reason(e));
    }
  };
  for (const s of resp.svids) addBundle(s.spiffeId, s.bundle);
  for (const [id, der] of Object.entries(resp.federatedBundles)) addBundle(id, der);
  return parsed.map((s) => {
    const td = SpiffeId.parse(s.spiffeId).trustDomain.name;
    const federatedBundles = new Map([...bundles].filter(([name]) => name !== td).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { ...s, hint: "", bundle: bundles.get(td) ?? [], federatedBundles };
  });
}

/** go-spiffe's x509svid.Verify against the SVID's own bundle. */
function validateX509Svid(svid: X509Svid, now: Date): void {
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(svid.spiffeId);
  } catch (e) {
    throw new CliError(e instanceof SpiffeIdError ? e.reason : reason(e));
  }
  const problem = verifyProblem(svid, id, now);
  if (problem) throw new CliError(`${goQuote(svid.spiffeId)} SVID failed verification against bundle: x509svid: ${problem}`);
}

function verifyProblem(svid: X509Svid, bundleId: SpiffeId, now: Date): string | undefined {
  const leaf = svid.certificates[0]!;
  let leafSpiffeId: SpiffeId;
  try {
    leafSpiffeId = leafId(leaf);
  } catch (e) {
    return `could not get leaf SPIFFE ID: ${reason(e)}`;
  }
  if (leaf.ca) return "leaf certificate with CA flag set to true";
  if (leafSpiffeId.trustDomain.name !== bundleId.trustDomain.name) {
    return `could not get X509 bundle: x509bundle: no X.509 bundle for trust domain ${goQuote(leafSpiffeId.trustDomain.name)}`;
  }
  const chainProblem = verifyChain(svid.certificates, svid.bundle, now);
  return chainProblem === undefined ? undefined : `could not verify leaf certificate: ${chainProblem}`;
}

/** x509.Certificate.Verify in outline: a path from the leaf through the intermediates to a root, each valid now. */
function verifyChain(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): string | undefined {
  const intermediates = chain.slice(1);
  let current = chain[0]!;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const expiry = validityProblem(current, now);
    if (expiry) return expiry;
    const root = roots.find((r) => issued(r, current));
    if (root) return validityProblem(root, now);
    const next = intermediates.find((c) => c !== current && issued(c, current));
    if (!next) break;
    current = next;
  }
  return "x509: certificate signed by unknown authority";
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const nowText = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const fmt = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
  if (now < notBefore) return `x509: certificate has expired or is not yet valid: current time ${nowText} is before ${fmt(notBefore)}`;
  if (now > notAfter) return `x509: certificate has expired or is not yet valid: current time ${nowText} is after ${fmt(notAfter)}`;
  return undefined;
}

/** x509svid.IDFromCert: exactly one URI SAN, a valid SPIFFE ID. */
function leafId(cert: X509Certificate): SpiffeId {
  const uris = sanEntries(cert.subjectAltName).filter((e) => e.startsWith("URI:")).map((e) => e.slice(4));
  if (uris.length === 0) throw new Error("certificate contains no URI SAN");
  if (uris.length > 1) throw new Error("certificate contains more than one URI SAN");
  try {
    return SpiffeId.parse(uris[0]!);
  } catch (e) {
    throw new Error(e instanceof SpiffeIdError ? e.reason : reason(e));
  }
}

/** Node's subjectAltName text: "URI:a, DNS:b", entries with special characters JSON-quoted after the colon. */
function sanEntries(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m !== null && m[0] !== ""; m = re.exec(text)) {
    const value = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    out.push(`${m[1]}:${value}`);
  }
  return out;
}

function parsePkcs8(der: Uint8Array, prefix: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
  } catch {
    throw new CliError(`${prefix}asn1: structure error: malformed PKCS#8 private key`);
  }
}

function reason(e: unknown): string {
  if (e instanceof BundleError || e instanceof Error) return e.message;
  return String(e);
}
