/**
 * The agent's grpc.health.v1.Health on the public socket: SERVING while the
 * agent holds a valid SVID and its last sync is recent (SPIRE answers with
 * a local Workload API fetch; the same facts decide it here).
 */
import { Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";

export interface AgentHealth {
  /** Undefined when healthy, else why not. */
  readonly problem: () => string | undefined;
}

export function healthService(health: AgentHealth): ServiceRegistration {
  return implement(HealthService, {
    async check(request) {
      if (request.service !== "") throw new RpcError(Code.INVALID_ARGUMENT, "per-service health is not supported");
      return { status: health.problem() === undefined ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING };
    },
  });
}
