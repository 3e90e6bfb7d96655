import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError } from "@signet/proto";
import { Status as RpcStatus } from "@signet/proto/google/rpc/status";
import { PermissionDeniedDetails, type PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";

/**
 * PermissionDenied with SPIRE's spire.api.types.PermissionDeniedDetails packed
 * in a google.rpc.Status in the `grpc-status-details-bin` trailer
 * (errorutil.PermissionDenied): the stock agent re-attests or shuts down from
 * that reason alone. Both ends use it: the server to send, the agent to read.
 */
const detailsTypeUrl = "type.googleapis.com/spire.api.types.PermissionDeniedDetails";

/** PermissionDenied with `message`, carrying `reason` as a status detail when given. */
export function permissionDenied(message: string, reason?: PermissionDeniedDetails_Reason): RpcError {
  if (reason === undefined) return new RpcError(Code.PERMISSION_DENIED, message);
  const status = RpcStatus.encode({
    code: Code.PERMISSION_DENIED,
    message,
    details: [{ typeUrl: detailsTypeUrl, value: Buffer.from(PermissionDeniedDetails.encode({ reason }).finish()) }],
  }).finish();
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(status));
  return new RpcError(Code.PERMISSION_DENIED, message, metadata);
}

/** The PermissionDeniedDetails reason in a failed call's trailers, if any (clients and tests). */
export function permissionDeniedReason(metadata: Metadata | undefined): PermissionDeniedDetails_Reason | undefined {
  const raw = metadata?.get("grpc-status-details-bin")[0];
  if (!raw || typeof raw === "string") return undefined;
  let status: RpcStatus;
  try {
    status = RpcStatus.decode(raw);
  } catch {
    return undefined;
  }
  for (const any of status.details) {
    if (any.typeUrl === detailsTypeUrl) {
      try {
        return PermissionDeniedDetails.decode(any.value).reason;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
