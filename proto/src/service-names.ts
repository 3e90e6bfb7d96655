/** Full gRPC service names that appear on the wire outside method paths (Init lists, health). */
export const serviceNames = {
  init: "spire.service.private.init.v1.Init",
  config: "spire.service.common.config.v1.Config",
  grpcBroker: "plugin.GRPCBroker",
  grpcController: "plugin.GRPCController",
  grpcStdio: "plugin.GRPCStdio",
  health: "grpc.health.v1.Health",
} as const;
