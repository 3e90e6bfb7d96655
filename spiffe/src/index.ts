/**
 * @signet/spiffe: the SPIFFE library for Node workloads and for Signet hosts.
 */
export * from "./id/index.js";
export * from "./x509/index.js";
export * from "./jwt/index.js";
export * from "./bundle/index.js";
export * from "./x509svid/index.js";
export * from "./x509bundle/index.js";
export * from "./jwtbundle/index.js";
export * from "./workloadapi/index.js";
export * from "./tls/index.js";
