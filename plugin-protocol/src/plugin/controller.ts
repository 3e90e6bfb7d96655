import { type ServiceRegistration, implement } from "@signet/proto";
import { GRPCControllerService } from "@signet/proto/plugin/grpc_controller";

/** go-plugin's GRPCController: Shutdown answers, then the process stops serving and exits. */
export function controllerService(shutdown: () => void): ServiceRegistration {
  return implement(GRPCControllerService, {
    async shutdown() {
      setImmediate(shutdown);
      return {};
    },
  });
}
