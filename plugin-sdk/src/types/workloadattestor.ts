import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";

export type WorkloadAttestorImpl = Partial<AsyncService<typeof WorkloadAttestorService>>;

/** WorkloadAttestor (agent): selectors for a PID. A PID that is not yours gives no selectors, not an error. */
export const workloadAttestor = (impl: WorkloadAttestorImpl): ServiceRegistration =>
  implement(WorkloadAttestorService, impl);
