export { X509Svid, X509SvidError, spiffeIdOfLeaf, type X509SvidSource } from "./x509-svid.js";
export { verifyX509Svid, type VerifiedX509Svid } from "./verify.js";
