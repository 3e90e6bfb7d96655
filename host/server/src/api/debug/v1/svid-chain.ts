/**
 * The server SVID's chain up to a root of its own bundle (what go-spiffe's
 * x509svid.Verify returns as the first verified chain), for Debug GetInfo.
 */
import { X509Certificate } from "node:crypto";

export function verifiedChain(svid: readonly Buffer[], roots: readonly Buffer[], now: Date): X509Certificate[] {
  if (svid.length === 0) throw new Error("empty certificates chain");
  const leaf = new X509Certificate(svid[0]!);
  const intermediates = svid.slice(1).map((der) => new X509Certificate(der));
  const anchors = roots.map((der) => new X509Certificate(der));
  const chain = [leaf];
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const current = chain[chain.length - 1]!;
    checkValidity(current, now);
    const root = anchors.find((r) => issued(r, current));
    if (root) {
      checkValidity(root, now);
      if (!root.raw.equals(current.raw)) chain.push(root);
      return chain;
    }
    const next = intermediates.find((c) => !chain.includes(c) && issued(c, current));
    if (!next) break;
    chain.push(next);
  }
  throw new Error("x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority");
}

function issued(issuer: X509Certificate, child: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

function checkValidity(cert: X509Certificate, now: Date): void {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new Error("x509svid: could not verify leaf certificate: x509: certificate has expired or is not yet valid");
  }
}

/** The certificate's SPIFFE ID if it has exactly one URI SAN that is one (go-spiffe's IDFromCert). */
export function uriSans(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (!san) return [];
  return san
    .split(", ")
    .filter((part) => part.startsWith("URI:"))
    .map((part) => part.slice(4));
}
