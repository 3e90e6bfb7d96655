export { JwtBundle, JwtBundleSet, type JwtBundleSource } from "./jwt-bundle.js";
