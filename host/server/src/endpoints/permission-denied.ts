import type { PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";

/**
 * Why an agent was refused, as the stock agent reads it: a
 * spire.api.types.PermissionDeniedDetails packed in a google.rpc.Status in
 * the `grpc-status-details-bin` trailer.
 */
export class AgentDenied extends Error {
  constructor(
    readonly reason: PermissionDeniedDetails_Reason,
    message: string,
  ) {
    super(message);
    this.name = "AgentDenied";
  }
}

