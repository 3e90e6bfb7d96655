import { Metadata, status } from "@grpc/grpc-js";

/** gRPC status codes by name, re-exported so callers need not import grpc-js. */
export const Code = status;
export type Code = status;

/**
 * An RPC failure with its gRPC status code. Domain code throws these (or
 * subclasses) and the server adapter turns them into the call's status; the
 * client wrappers turn every failed call into one.
 */
export class RpcError extends Error {
  readonly code: Code;
  readonly metadata: Metadata | undefined;

  constructor(code: Code, message: string, metadata?: Metadata) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.metadata = metadata;
  }

  /** Name of the code as grpc-go prints it, e.g. "InvalidArgument". */
  get codeName(): string {
    return codeName(this.code);
  }
}

export function isRpcError(e: unknown): e is RpcError {
  return e instanceof RpcError;
}

const codeNames: Record<number, string> = {
  0: "OK",
  1: "Canceled",
  2: "Unknown",
  3: "InvalidArgument",
  4: "DeadlineExceeded",
  5: "NotFound",
  6: "AlreadyExists",
  7: "PermissionDenied",
  8: "ResourceExhausted",
  9: "FailedPrecondition",
  10: "Aborted",
  11: "OutOfRange",
  12: "Unimplemented",
  13: "Internal",
  14: "Unavailable",
  15: "DataLoss",
  16: "Unauthenticated",
};

export function codeName(code: number): string {
  return codeNames[code] ?? `Code(${code})`;
}

/** Shape of the errors grpc-js hands to client callbacks and stream listeners. */
interface GrpcServiceErrorLike {
  code?: number;
  details?: string;
  message?: string;
  metadata?: Metadata;
}

/** Converts whatever a grpc-js client call failed with into an RpcError. */
export function fromGrpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const err = e as GrpcServiceErrorLike;
  if (typeof err?.code === "number") {
    return new RpcError(err.code, err.details ?? err.message ?? "", err.metadata);
  }
  return new RpcError(status.UNKNOWN, e instanceof Error ? e.message : String(e));
}

/** What a server handler's failure becomes on the wire. */
export function toGrpcStatus(e: unknown): { code: number; details: string; metadata?: Metadata } {
  if (e instanceof RpcError) {
    return e.metadata ? { code: e.code, details: e.message, metadata: e.metadata } : { code: e.code, details: e.message };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: status.INTERNAL, details: message };
}
