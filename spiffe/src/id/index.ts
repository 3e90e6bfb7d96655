export { SpiffeId, TrustDomain, maxIssuedIdLength, maxTrustDomainLength } from "./spiffe-id.js";
export { SpiffeIdError, TrustDomainError } from "./errors.js";
