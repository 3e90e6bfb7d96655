/**
 * The upstream CA as the disk UpstreamAuthority loads it from its files, and
 * signing a SPIRE server's CA CSR with it. Behaviour follows SPIRE's disk
 * plugin (pkg/server/plugin/upstreamauthority/disk):
 *
 * - `key_file_path`: one PEM private key (PKCS #8, SEC 1 EC or PKCS #1 RSA);
 * - `cert_file_path`: the CA certificate first, then (for an intermediate
 *   upstream CA) the certificates up to, not including, a root;
 * - `bundle_file_path` absent: the certificate file must hold exactly one
 *   certificate, which is also the only upstream root; present: its
 *   certificates are the upstream roots, and the chain answered is the new
 *   CA followed by every certificate of the certificate file;
 * - the key must match the certificate, and the certificate must verify up
 *   to the roots (currently valid, each issuer a CA). Signet also refuses a
 *   certificate that is not itself a CA, which SPIRE would only find out
 *   when its signed intermediate failed to verify.
 *
 * Errors are the SDK's PluginError ("invalid-argument" or "internal");
 * messages are SPIRE's where SPIRE has one.
 */
import { type KeyObject, X509Certificate, createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type Issuer,
  type TrustDomain,
  type X509Signer,
  X509Error,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  parseCsr,
  spkiOf,
  upstreamSignedCaTemplate,
} from "@signet/spiffe";
import { PluginError } from "@signet/plugin-sdk";
import type { DiskConfig } from "./config.js";
import { pemBlocks } from "./pem.js";

/** A loaded, checked upstream CA. */
export interface UpstreamCa {
  readonly issuer: Issuer;
  readonly signer: X509Signer;
  /** Certificates answered after the new CA: the certificate file's, when a bundle is configured; none otherwise. */
  readonly chain: readonly Buffer[];
  /** The upstream roots answered as upstream_x509_roots. */
  readonly roots: readonly Buffer[];
}

const keyBlockTypes: Record<string, "pkcs8" | "sec1" | "pkcs1"> = { "PRIVATE KEY": "pkcs8", "EC PRIVATE KEY": "sec1", "RSA PRIVATE KEY": "pkcs1" };

/** Reads and checks the files `config` names. */
export async function loadUpstreamCa(config: DiskConfig, now: Date = new Date()): Promise<UpstreamCa> {
  const key = await loadKey(config.keyFilePath);
  const certs = await loadCertificates(config.certFilePath, "unable to load upstream CA cert");
  const caCert = certs[0]!;
  let intermediates: X509Certificate[];
  let roots: X509Certificate[];
  if (config.bundleFilePath === undefined) {
    if (certs.length !== 1) throw invalid("with no bundle_file_path configured only self-signed CAs are supported");
    intermediates = [];
    roots = certs;
  } else {
    intermediates = certs.slice(1);
    roots = await loadCertificates(config.bundleFilePath, "unable to load upstream CA bundle");
  }

  let signer: X509Signer;
  try {
    signer = keyObjectSigner(key);
  } catch (e) {
    throw invalid(`unable to load upstream CA key: ${(e as Error).message}`);
  }
  if (!spkiOf(key).equals(caCert.publicKey.export({ type: "spki", format: "der" }))) {
    throw invalid("unable to load upstream CA: certificate and private key do not match");
  }
  if (!caCert.ca) throw invalid("unable to load upstream CA: certificate is not a CA certificate (basic constraints cA is not set)");
  if (!verifiesToRoots(caCert, intermediates, roots, now)) {
    throw invalid("unable to load upstream CA: certificate cannot be validated with the provided bundle or is not self-signed");
  }
  return {
    issuer: issuerFromCertificate(caCert.raw),
    signer,
    chain: config.bundleFilePath === undefined ? [] : certs.map((c) => c.raw),
    roots: roots.map((c) => c.raw),
  };
}

/**
 * Signs the server CA's CSR (DER) as SPIRE's UpstreamCA.SignCSR does: the
 * CSR must carry the trust domain's ID as its only URI SAN; TTL is the
 * preferred one or one hour, capped at the upstream CA's expiry. Answers
 * the chain: the new CA first, then `ca.chain`.
 */
export function signCaCsr(ca: UpstreamCa, trustDomain: TrustDomain, csrDer: Buffer, preferredTtlSeconds: number, now: Date = new Date()): Buffer[] {
  let cert: Buffer;
  try {
    const csr = parseCsr(csrDer);
    const template = upstreamSignedCaTemplate({
      trustDomain,
      csr,
      issuer: ca.issuer,
      ...(preferredTtlSeconds > 0 ? { ttlSeconds: preferredTtlSeconds } : {}),
      now,
    });
    cert = mintCertificateSync(template, ca.signer);
  } catch (e) {
    // SPIRE answers every signing failure, a bad CSR included, with Internal "unable to sign CSR: …".
    if (e instanceof Error && (e.name === "CsrError" || e instanceof X509Error)) throw new PluginError("internal", `unable to sign CSR: ${e.message}`);
    throw e;
  }
  return [cert, ...ca.chain];
}

async function loadKey(path: string): Promise<KeyObject> {
  const blocks = await readBlocks(path, "unable to load upstream CA key");
  if (blocks.length !== 1) throw invalid(`unable to load upstream CA key: expected 1 PEM blocks; got ${blocks.length}`);
  const [block] = blocks;
  const type = keyBlockTypes[block!.type];
  if (!type) throw invalid(`unable to load upstream CA key: expected block type ${JSON.stringify(Object.keys(keyBlockTypes))}; got ${JSON.stringify(block!.type)}`);
  try {
    return createPrivateKey({ key: block!.der, format: "der", type });
  } catch (e) {
    throw invalid(`unable to load upstream CA key: unable to parse ${JSON.stringify(block!.type)} PEM block 1: ${(e as Error).message}`);
  }
}

async function loadCertificates(path: string, what: string): Promise<X509Certificate[]> {
  const blocks = await readBlocks(path, what);
  return blocks.map((b, i) => {
    if (b.type !== "CERTIFICATE") throw invalid(`${what}: expected block type "CERTIFICATE"; got ${JSON.stringify(b.type)}`);
    try {
      return new X509Certificate(b.der);
    } catch (e) {
      throw invalid(`${what}: unable to parse "CERTIFICATE" PEM block ${i + 1}: ${(e as Error).message}`);
    }
  });
}

async function readBlocks(path: string, what: string) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw invalid(`${what}: ${(e as Error).message}`);
  }
  let blocks;
  try {
    blocks = pemBlocks(text);
  } catch (e) {
    throw invalid(`${what}: ${(e as Error).message}`);
  }
  if (blocks.length === 0) throw invalid(`${what}: no PEM blocks`);
  return blocks;
}

/** A path from `leaf` through `intermediates` to one of `roots`, each certificate valid at `now` and each issuer a CA. */
function verifiesToRoots(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): boolean {
  const valid = (c: X509Certificate) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  const issues = (issuer: X509Certificate, child: X509Certificate) => issuer.ca && valid(issuer) && child.checkIssued(issuer) && child.verify(issuer.publicKey);
  if (!valid(leaf)) return false;
  // As Go's Verify: a certificate that is itself a root is trusted as it is.
  if (roots.some((r) => r.raw.equals(leaf.raw))) return true;
  const unused = [...intermediates];
  let current = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    if (roots.some((r) => issues(r, current))) return true;
    const next = unused.findIndex((i) => issues(i, current));
    if (next < 0) return false;
    current = unused.splice(next, 1)[0]!;
  }
  return false;
}

function invalid(message: string): PluginError {
  return new PluginError("invalid-argument", message);
}
