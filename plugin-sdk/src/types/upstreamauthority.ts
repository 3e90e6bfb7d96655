import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { UpstreamAuthorityService } from "@signet/proto/spire/plugin/server/upstreamauthority/v1/upstreamauthority";

export type UpstreamAuthorityImpl = Partial<AsyncService<typeof UpstreamAuthorityService>>;

/** UpstreamAuthority (server): signs the server's intermediate CA and streams upstream root updates. */
export const upstreamAuthority = (impl: UpstreamAuthorityImpl): ServiceRegistration =>
  implement(UpstreamAuthorityService, impl);
