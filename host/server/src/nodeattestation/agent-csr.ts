import { CsrError, parseCsr } from "@signet/spiffe";

/**
 * The public key (SubjectPublicKeyInfo DER) an agent asks to have certified.
 *
 * SPIRE's AttestAgent and RenewAgent parse the CSR but never check its
 * self-signature: only the key is used. parseCsr always checks it, and when
 * that check is the only thing that failed the request is well formed, so
 * the key is read from the request structure directly. Anything that does not
 * parse throws CsrError (SPIRE: "failed to parse CSR: …").
 */
export function agentCsrPublicKey(csr: Buffer): Buffer {
  // Go's parser takes DER only; parseCsr would also take PEM.
  if (csr[0] !== 0x30) throw new CsrError("malformed", "malformed CSR: expected a DER CertificationRequest");
  try {
    return parseCsr(csr).spki;
  } catch (err) {
    if (err instanceof CsrError && err.kind === "signature") return spkiOfWellFormedCsr(csr);
    throw err;
  }
}

/** CertificationRequest → CertificationRequestInfo → third element (SPKI). Only for DER parseCsr accepted. */
function spkiOfWellFormedCsr(der: Buffer): Buffer {
  const outer = element(der, 0);
  const info = element(der, outer.contentStart);
  let at = info.contentStart;
  for (let i = 0; i < 2; i++) at = element(der, at).end; // version, subject
  const spki = element(der, at);
  return der.subarray(at, spki.end);
}

function element(der: Buffer, at: number): { contentStart: number; end: number } {
  let length = der[at + 1];
  let contentStart = at + 2;
  if (length === undefined) throw new CsrError("malformed", "malformed CSR: truncated");
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[contentStart + i] ?? 0);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > der.length) throw new CsrError("malformed", "malformed CSR: truncated");
  return { contentStart, end };
}
