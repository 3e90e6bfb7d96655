/**
 * Errors of the X.509 core. Each has a kind, so the edge can map it to a gRPC code in one place;
 * messages follow SPIRE's wording ("malformed CSR: …", "failed to verify CSR signature: …").
 */

export type CsrErrorKind =
  /** Not a well-formed PKCS#10 request (bad DER, wrong structure, trailing bytes, bad PEM). */
  | "malformed"
  /** Well-formed, but its self-signature does not verify. */
  | "signature"
  /** A key type, curve, size or signature algorithm we do not issue for. */
  | "unsupported"
  /** Well-formed and signed, but asks for something SVIDs cannot carry (two URI SANs). */
  | "invalid";

export class CsrError extends Error {
  override readonly name = "CsrError";
  constructor(
    readonly kind: CsrErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export type X509ErrorKind =
  /** A template input that SPIRE would refuse (root-path ID for a leaf, non-ASCII DNS name, …). */
  | "invalid-template"
  /** A certificate we were given to read (an issuer) that is not well-formed. */
  | "malformed-certificate"
  /** The signer failed or returned something unusable. */
  | "signing";

export class X509Error extends Error {
  override readonly name = "X509Error";
  constructor(
    readonly kind: X509ErrorKind,
    message: string,
  ) {
    super(message);
  }
}
