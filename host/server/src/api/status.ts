import { Code, RpcError } from "@signet/proto";
import type { Status } from "@signet/proto/spire/api/types/status";

/**
 * SPIRE's error wording: "<short message>: <cause>", and NotFound without a
 * cause. Every API handler builds its errors through these so the wording and
 * the status code are decided in one place.
 */
export function apiError(code: Code, message: string, cause?: unknown): RpcError {
  const text = cause === undefined || code === Code.NOT_FOUND ? message : `${message}: ${causeText(cause)}`;
  return new RpcError(code, text);
}

/** The per-item status of a Batch* RPC result. */
export function itemStatus(code: Code, message: string, cause?: unknown): Status {
  if (code === Code.OK) return okStatus();
  return { code, message: cause === undefined || code === Code.NOT_FOUND ? message : `${message}: ${causeText(cause)}` };
}

export function okStatus(): Status {
  return { code: Code.OK, message: "OK" };
}

/** Turns an error thrown by a lower layer (datastore, CA) into a per-item status. */
export function statusFromError(message: string, err: unknown): Status {
  if (err instanceof RpcError) return itemStatus(err.code, message, err.message);
  return itemStatus(Code.INTERNAL, message, err);
}

function causeText(cause: unknown): string {
  if (cause instanceof RpcError) return cause.message;
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
