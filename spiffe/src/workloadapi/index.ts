export { socketEnv, validateWorkloadApiAddress, workloadApiTarget, WorkloadApiAddressError } from "./address.js";
export { LinearBackoff, type BackoffOptions } from "./backoff.js";
export {
  securityHeaderKey,
  WorkloadApiClient,
  type FetchOptions,
  type JwtSvidParams,
  type Watcher,
  type WorkloadApiClientOptions,
} from "./client.js";
export { parseJwtSvidFromWorkloadApi, type JwtSvid } from "./jwt-svid.js";
export { WorkloadApiResponseError, type X509Context } from "./responses.js";
export { SourceClosedError, type SourceOptions } from "./source-core.js";
export { X509Source, type UpdatingSource, type X509SourceOptions } from "./x509-source.js";
export { JwtSource } from "./jwt-source.js";
