import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError } from "@signet/proto";
import { Status as RpcStatus } from "@signet/proto/google/rpc/status";
import { PermissionDeniedDetails, type PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";

const detailsTypeUrl = "type.googleapis.com/spire.api.types.PermissionDeniedDetails";

/**
 * PermissionDenied carrying spire.api.types.PermissionDeniedDetails in the
 * grpc-status-details-bin trailer (SPIRE's errorutil.PermissionDenied): the
 * stock agent decides to re-attest or shut down from that reason alone.
 */
export function permissionDenied(reason: PermissionDeniedDetails_Reason, message: string): RpcError {
  const detail = Buffer.from(PermissionDeniedDetails.encode({ reason }).finish());
  const status = RpcStatus.encode({
    code: Code.PERMISSION_DENIED,
    message,
    details: [{ typeUrl: detailsTypeUrl, value: detail }],
  }).finish();
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(status));
  return new RpcError(Code.PERMISSION_DENIED, message, metadata);
}

/** The PermissionDeniedDetails reason in an error's trailers, if any (tests, and agents reading a server). */
export function permissionDeniedReason(err: RpcError): PermissionDeniedDetails_Reason | undefined {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  if (!raw || typeof raw === "string") return undefined;
  const status = RpcStatus.decode(raw);
  const detail = status.details.find((d) => d.typeUrl === detailsTypeUrl);
  return detail ? PermissionDeniedDetails.decode(detail.value).reason : undefined;
}
