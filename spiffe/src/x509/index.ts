export { CsrError, X509Error, type CsrErrorKind, type X509ErrorKind } from "./errors.js";
export { parseCsr, maxCsrBytes, type CertificateRequest } from "./csr.js";
export { createCsr, createCsrWithSigner, type CsrParams, type ExternalCsrParams } from "./csr-builder.js";
export { type PublicKeyAlgorithm } from "./keys.js";
export { defaultX509CaSubject, defaultX509SvidSubject, distinguishedNameFrom, encodeName, type DistinguishedName, type NameAttribute } from "./name.js";
export {
  defaultUpstreamCaTtlSeconds,
  defaultX509CaTtlSeconds,
  defaultX509SvidTtlSeconds,
  newSerialNumber,
  notBeforeCushionMs,
  selfSignedCaTemplate,
  downstreamCaTemplate,
  upstreamSignedCaTemplate,
  x509SvidTemplate,
  type CertificateTemplate,
  type CaRequest,
  type DownstreamCaParams,
  type UpstreamSignedCaParams,
  type Issuer,
  type X509CaParams,
  type X509SvidParams,
} from "./template.js";
export {
  assembleCertificate,
  encodeTbs,
  keyObjectSigner,
  mintCertificate,
  mintCertificateSync,
  signatureAlgorithmFor,
  spkiOf,
  type SignatureAlgorithm,
  type X509Signer,
} from "./mint.js";
export { issuerFromCertificate, readCertificate, type CertificateFields } from "./certificate.js";
