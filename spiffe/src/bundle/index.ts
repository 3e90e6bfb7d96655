export { BundleError, parseCertificates, parsePkixPublicKey } from "./authorities.js";
export { marshalBundle, parseBundle, type MarshalBundleOptions } from "./spiffe-bundle.js";
