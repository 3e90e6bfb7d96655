export { authorizeAny, authorizeId, authorizeMemberOf, authorizeOneOf, TlsAuthorizationError, type Authorizer } from "./authorizer.js";
export { mtlsClientOptions, mtlsServerOptions, tlsClientOptions, tlsServerOptions } from "./options.js";
export { authorizeChain, authorizePeer, peerChainOf, peerSpiffeId } from "./peer.js";
export { attachSpiffeServer, createMtlsServer, createTlsServer, type SpiffeServerSource } from "./server.js";
