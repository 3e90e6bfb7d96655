/**
 * Bundle text for `bundle show|list` (PEM certificates or the SPIFFE bundle
 * JWKS, as go-spiffe marshals it) and the reverse for `bundle set` and
 * federation bundles.
 */
import { createPublicKey, X509Certificate as NodeX509, type JsonWebKey } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { TrustDomain } from "@signet/spiffe";
import { CliError } from "../errors.js";
import { goQuote } from "../flags.js";

export const formatPem = "pem";
export const formatSpiffe = "spiffe";

/** Go's pem.Encode. */
export function pemBlock(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}${lines.length ? "\n" : ""}-----END ${type}-----\n`;
}

/** Splits concatenated DER certificates (x509.ParseCertificates accepts several in one blob). */
export function splitDerCertificates(blob: Uint8Array): Buffer[] {
  const buf = Buffer.from(blob);
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const len = derElementLength(buf, pos);
    if (len === undefined) throw new CliError("unable to parse certificates ASN.1 DER data: x509: malformed certificate");
    const der = buf.subarray(pos, pos + len);
    try {
      new NodeX509(der);
    } catch {
      throw new CliError("unable to parse certificates ASN.1 DER data: x509: malformed certificate");
    }
    out.push(der);
    pos += len;
  }
  return out;
}

function derElementLength(buf: Buffer, pos: number): number | undefined {
  if (buf[pos] !== 0x30 || pos + 2 > buf.length) return undefined;
  const first = buf[pos + 1]!;
  let header = 2;
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || pos + 2 + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + 2 + i]!;
    header += n;
  }
  return pos + header + len <= buf.length ? header + len : undefined;
}

export function validateFormat(format: string): "pem" | "spiffe" {
  const f = (format === "" ? formatPem : format).toLowerCase();
  if (f === formatPem || f === formatSpiffe) return f;
  throw new CliError(`invalid format: ${goQuote(f)}`);
}

/** printBundleWithFormat: optional trust-domain header, then PEM roots or the JWKS document. */
export function formatBundle(bundle: Bundle, format: string, header: boolean): string {
  const f = validateFormat(format);
  let out = header ? `****************************************\n* ${bundle.trustDomain}\n****************************************\n` : "";
  if (f === formatPem) {
    for (const auth of bundle.x509Authorities) out += splitDerCertificates(auth.asn1).map((c) => pemBlock("CERTIFICATE", c)).join("");
    return out;
  }
  return `${out}${JSON.stringify(spiffeBundleDocument(bundle), null, 4)}\n`;
}

type Jwk = Record<string, unknown>;

/** go-spiffe's Bundle.Marshal document (go-jose key member order). */
export function spiffeBundleDocument(bundle: Bundle): Record<string, unknown> {
  try {
    TrustDomain.parse(bundle.trustDomain);
  } catch (e) {
    throw new CliError((e as { reason?: string }).reason ?? String(e));
  }
  const keys: Jwk[] = [];
  bundle.x509Authorities.forEach((auth, i) => {
    let cert: NodeX509;
    try {
      cert = new NodeX509(auth.asn1);
    } catch {
      throw new CliError(`unable to parse root CA ${i}: x509: malformed certificate`);
    }
    keys.push(jwkOf("x509-svid", undefined, cert.publicKey.export({ format: "jwk" }), [Buffer.from(auth.asn1).toString("base64")]));
  });
  for (const key of bundle.jwtAuthorities) {
    let jwk: JsonWebKey;
    try {
      jwk = createPublicKey({ key: Buffer.from(key.publicKey), format: "der", type: "spki" }).export({ format: "jwk" });
    } catch (e) {
      throw new CliError(`failed to parse public key for JWT authority ${goQuote(key.keyId)}: ${(e as Error).message}`);
    }
    keys.push(jwkOf("jwt-svid", key.keyId, jwk));
  }
  const doc: Record<string, unknown> = { keys };
  if (bundle.sequenceNumber > 0n) doc.spiffe_sequence = Number(bundle.sequenceNumber);
  if (bundle.refreshHint > 0n) doc.spiffe_refresh_hint = Number(bundle.refreshHint);
  return doc;
}

function jwkOf(use: string, kid: string | undefined, key: JsonWebKey, x5c?: string[]): Jwk {
  const out: Jwk = { use, kty: key.kty };
  if (kid) out.kid = kid;
  for (const member of ["crv", "x", "y", "n", "e"] as const) if (key[member] !== undefined) out[member] = key[member];
  if (x5c) out.x5c = x5c;
  return out;
}

/** util.ParseBundle: PEM roots or a SPIFFE bundle document into a Bundle message for `trustDomain`. */
export function parseBundle(data: Uint8Array, format: "pem" | "spiffe", trustDomain: string): Bundle {
  const empty: Bundle = {
    trustDomain,
    x509Authorities: [],
    jwtAuthorities: [],
    refreshHint: 0n,
    sequenceNumber: 0n,
    witAuthorities: [],
  };
  if (format === formatPem) {
    const ders = parsePemCertificates(Buffer.from(data).toString("latin1"));
    return { ...empty, x509Authorities: ders.map((asn1) => ({ asn1, tainted: false })) };
  }
  let td: TrustDomain;
  try {
    td = TrustDomain.parse(trustDomain);
  } catch (e) {
    throw new CliError((e as { reason?: string }).reason ?? String(e));
  }
  const fail = (m: string) => new CliError(`unable to parse to spiffe bundle: spiffebundle: ${m}`);
  let doc: { keys?: Jwk[] | null; spiffe_sequence?: number; spiffe_refresh_hint?: number };
  try {
    doc = JSON.parse(Buffer.from(data).toString("utf8")) as typeof doc;
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error("cannot unmarshal into bundle document");
  } catch (e) {
    throw fail(`unable to parse JWKS: ${(e as Error).message}`);
  }
  const bundle: Bundle = { ...empty, trustDomain: td.name };
  if (typeof doc.spiffe_refresh_hint === "number") bundle.refreshHint = BigInt(Math.trunc(doc.spiffe_refresh_hint));
  if (typeof doc.spiffe_sequence === "number") bundle.sequenceNumber = BigInt(Math.trunc(doc.spiffe_sequence));
  if (!Array.isArray(doc.keys)) throw fail("no authorities found");
  doc.keys.forEach((key, i) => {
    if (key.use === "x509-svid") {
      const x5c = Array.isArray(key.x5c) ? key.x5c : [];
      if (x5c.length !== 1) throw fail(`expected a single certificate in x509-svid entry ${i}; got ${x5c.length}`);
      const der = Buffer.from(String(x5c[0]), "base64");
      try {
        new NodeX509(der);
      } catch {
        throw fail(`unable to parse JWKS: x509: malformed certificate`);
      }
      bundle.x509Authorities.push({ asn1: der, tainted: false });
    } else if (key.use === "jwt-svid") {
      const kid = typeof key.kid === "string" ? key.kid : "";
      if (kid === "") throw fail(`error adding authority ${i} of JWKS: keyID cannot be empty`);
      let spki: Buffer;
      try {
        const { use: _u, kid: _k, x5c: _x, ...material } = key;
        spki = createPublicKey({ key: material as JsonWebKey, format: "jwk" }).export({ format: "der", type: "spki" });
      } catch (e) {
        throw fail(`unable to parse JWKS: ${(e as Error).message}`);
      }
      bundle.jwtAuthorities.push({ publicKey: spki, keyId: kid, expiresAt: 0n, tainted: false });
    }
  });
  return bundle;
}

/** pemutil.ParseCertificates */
export function parsePemCertificates(text: string): Buffer[] {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  const out: Buffer[] = [];
  for (const m of text.matchAll(re)) {
    if (m[1] !== "CERTIFICATE") throw new CliError(`unable to parse bundle data: expected block type "CERTIFICATE"; got ${goQuote(m[1]!)}`);
    const der = Buffer.from(m[2]!.replace(/\s+/g, ""), "base64");
    try {
      new NodeX509(der);
    } catch {
      throw new CliError("unable to parse bundle data: x509: malformed certificate");
    }
    out.push(der);
  }
  if (out.length === 0) throw new CliError("unable to parse bundle data: no PEM blocks");
  return out;
}
