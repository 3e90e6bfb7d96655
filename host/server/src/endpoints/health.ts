/**
 * The server's grpc.health.v1.Health service (SPIRE's pkg/server/api/health):
 * only the overall health (empty service name) is answered, SERVING when the
 * server's own bundle is in the datastore. List and Watch are Unimplemented.
 * Registered on the local socket only.
 */
import { Code, implement, type ServiceRegistration } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";
import type { Logger } from "@signet/host-common";
import type { TrustDomain } from "@signet/spiffe";
import { apiError } from "../api/status.js";
import type { DataStore } from "../datastore/datastore.js";

export function healthService(deps: { dataStore: Pick<DataStore, "fetchBundle">; trustDomain: TrustDomain; log?: Logger }): ServiceRegistration {
  return implement(HealthService, {
    async check(request) {
      if (request.service !== "") throw apiError(Code.INVALID_ARGUMENT, "per-service health is not supported");
      let reason: string | undefined;
      try {
        const res = await deps.dataStore.fetchBundle({ trustDomain: deps.trustDomain.name });
        if (!res.bundle) reason = "bundle is missing";
      } catch (err) {
        reason = (err as { code?: number }).code === Code.NOT_FOUND ? "bundle is missing" : "unable to fetch bundle";
      }
      if (reason) {
        deps.log?.warn("Health check failed", { reason });
        return { status: HealthCheckResponse_ServingStatus.NOT_SERVING };
      }
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  });
}
