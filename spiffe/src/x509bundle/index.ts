export { X509Bundle, X509BundleSet, type X509BundleSetSource, type X509BundleSource } from "./x509-bundle.js";
