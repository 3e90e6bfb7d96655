import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";

/** go-plugin registers standard health with service "plugin" SERVING; "" means the whole server. */
export function healthService(): ServiceRegistration {
  const known = new Set(["", "plugin"]);
  return implement(HealthService, {
    async check(req) {
      if (!known.has(req.service)) throw new RpcError(Code.NOT_FOUND, `unknown service "${req.service}"`);
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
    async list() {
      return {
        statuses: { "": { status: HealthCheckResponse_ServingStatus.SERVING }, plugin: { status: HealthCheckResponse_ServingStatus.SERVING } },
      };
    },
  });
}
