/**
 * Bundle text for `bundle show|list` (PEM certificates or the SPIFFE bundle
 * JWKS, as go-spiffe marshals it) and the reverse for `bundle set` and
 * federation bundles.
 */
import { X509Certificate as NodeX509 } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { BundleError, marshalBundle, parseBundle as parseSpiffeBundle, parseCertificates, TrustDomain } from "@signet/spiffe";
import { CliError, goQuote } from "@signet/host-common";

export const formatPem = "pem";
export const formatSpiffe = "spiffe";

/** Go's pem.Encode. */
export function pemBlock(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}${lines.length ? "\n" : ""}-----END ${type}-----\n`;
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
    for (const auth of bundle.x509Authorities) {
      let certs;
      try {
        certs = parseCertificates(auth.asn1);
      } catch (e) {
        throw new CliError(`unable to parse certificates ASN.1 DER data: ${(e as Error).message}`);
      }
      out += certs.map((c) => pemBlock("CERTIFICATE", c.raw)).join("");
    }
    return out;
  }
  return `${out}${spiffeBundleText(bundle)}\n`;
}

/** bundleFromProto + Bundle.Marshal + json.Indent: X.509 and JWT authorities only, as SPIRE's CLI converts them. */
export function spiffeBundleText(bundle: Bundle): string {
  try {
    TrustDomain.parse(bundle.trustDomain);
  } catch (e) {
    throw new CliError((e as { reason?: string }).reason ?? String(e));
  }
  bundle.x509Authorities.forEach((auth, i) => {
    const ders = (() => {
      try {
        return parseCertificates(auth.asn1);
      } catch (e) {
        throw new CliError(`unable to parse root CA ${i}: ${(e as Error).message}`);
      }
    })();
    if (ders.length !== 1) throw new CliError(`unable to parse root CA ${i}: x509: trailing data`);
  });
  try {
    return marshalBundle(bundle, { noWitSvidKeys: true, indent: "    " });
  } catch (e) {
    throw new CliError(e instanceof BundleError ? e.message : String(e));
  }
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
  try {
    return { ...parseSpiffeBundle(td.name, data), witAuthorities: [] };
  } catch (e) {
    throw new CliError(`unable to parse to spiffe bundle: ${e instanceof BundleError ? e.message : String(e)}`);
  }
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
