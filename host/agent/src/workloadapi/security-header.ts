import type { Metadata } from "@grpc/grpc-js";
import { Code, RpcError } from "@signet/proto";

/** The metadata every Workload API call must carry (spiffe-standards.md 5.2). */
export const securityHeader = "workload.spiffe.io";

/** Exactly one value, `true`; anything else is InvalidArgument, SPIRE's wording. */
export function checkSecurityHeader(metadata: Metadata): void {
  const values = metadata.get(securityHeader);
  if (values.length !== 1 || values[0] !== "true") {
    throw new RpcError(Code.INVALID_ARGUMENT, "security header missing from request");
  }
}
