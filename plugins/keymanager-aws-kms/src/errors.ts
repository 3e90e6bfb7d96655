/**
 * Why Configure failed, as a value with a kind; `toRpcError` (used by the
 * edge, index.ts) gives it SPIRE's status code. The KeyManager calls
 * themselves fail with the SDK's KeyManagerError, which the SDK's handlers map.
 */
import { Code, RpcError } from "@signet/plugin-sdk";

export type ConfigureErrorKind = "internal" | "failed-precondition";

export class ConfigureError extends Error {
  override readonly name = "ConfigureError";
  constructor(
    readonly kind: ConfigureErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const codes: Readonly<Record<ConfigureErrorKind, Code>> = {
  internal: Code.INTERNAL,
  "failed-precondition": Code.FAILED_PRECONDITION,
};

/** The one place kinds become status codes; anything unexpected is Internal with its message. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof ConfigureError) return new RpcError(codes[e.kind], e.message);
  return new RpcError(Code.INTERNAL, e instanceof Error ? e.message : String(e));
}
