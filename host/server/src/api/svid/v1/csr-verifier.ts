/**
 * CSR checks for the SVID API, behind one interface so the hot path
 * (BatchNewX509SVID, hundreds of CSRs per call) can verify signatures off the
 * main thread when that pays (see csr-worker-pool.ts and bench/svid-batch).
 */
import { CsrError, type CertificateRequest, parseCsr } from "@signet/spiffe";

/** What the API needs from a verified CSR. */
export interface VerifiedCsr {
  readonly ok: true;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
  readonly uriSan: string | undefined;
  readonly dnsSans: readonly string[];
  readonly subject: CertificateRequest["subject"];
}

export interface RejectedCsr {
  readonly ok: false;
  /** "malformed" (incl. unsupported keys), "signature", or "invalid" (several URI SANs). */
  readonly kind: "malformed" | "signature" | "invalid";
  /** The cause alone, without parseCsr's "malformed CSR: " style prefix. */
  readonly cause: string;
}

export type CsrCheck = VerifiedCsr | RejectedCsr;

export interface CsrVerifier {
  /** One result per CSR, in order. Never rejects for a bad CSR. */
  verify(csrs: readonly Buffer[]): Promise<CsrCheck[]>;
  close(): Promise<void>;
}

/** Verifies on the calling thread. */
export function inlineCsrVerifier(): CsrVerifier {
  return {
    verify: async (csrs) => csrs.map(checkCsr),
    close: async () => {},
  };
}

/** Parses (DER only, as Go's x509.ParseCertificateRequest) and verifies one CSR. */
export function checkCsr(der: Buffer): CsrCheck {
  if (der[0] !== 0x30) return { ok: false, kind: "malformed", cause: "expected a DER CertificationRequest" };
  try {
    const csr = parseCsr(der);
    return { ok: true, spki: csr.spki, uriSan: csr.uriSan, dnsSans: csr.dnsSans, subject: csr.subject };
  } catch (e) {
    if (!(e instanceof CsrError)) return { ok: false, kind: "malformed", cause: e instanceof Error ? e.message : String(e) };
    const kind = e.kind === "signature" || e.kind === "invalid" ? e.kind : "malformed";
    return { ok: false, kind, cause: stripPrefix(e.message) };
  }
}

const prefixes = ["malformed CSR: ", "failed to verify CSR signature: ", "unsupported CSR: "];

function stripPrefix(message: string): string {
  for (const p of prefixes) if (message.startsWith(p)) return message.slice(p.length);
  return message;
}
