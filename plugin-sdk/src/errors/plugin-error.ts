/**
 * A plugin's refusals as values: a PluginError carries a kind (a gRPC status
 * code by its kebab-case name, e.g. "permission-denied") and the message the
 * host shows. `toRpcError` is the one place such a value becomes a status;
 * `withStatus` / `withUnaryStatus` put it at a handler's edge so whatever the
 * domain throws leaves the call as a status, never as a crash.
 */
import { Code, RpcError } from "@signet/proto";

/** Every failing gRPC status code, by the kebab-case form of its name. */
const codes = {
  cancelled: Code.CANCELLED,
  unknown: Code.UNKNOWN,
  "invalid-argument": Code.INVALID_ARGUMENT,
  "deadline-exceeded": Code.DEADLINE_EXCEEDED,
  "not-found": Code.NOT_FOUND,
  "already-exists": Code.ALREADY_EXISTS,
  "permission-denied": Code.PERMISSION_DENIED,
  "resource-exhausted": Code.RESOURCE_EXHAUSTED,
  "failed-precondition": Code.FAILED_PRECONDITION,
  aborted: Code.ABORTED,
  "out-of-range": Code.OUT_OF_RANGE,
  unimplemented: Code.UNIMPLEMENTED,
  internal: Code.INTERNAL,
  unavailable: Code.UNAVAILABLE,
  "data-loss": Code.DATA_LOSS,
  unauthenticated: Code.UNAUTHENTICATED,
} as const satisfies Record<string, Code>;

export type PluginErrorKind = keyof typeof codes;

const kinds = new Map<Code, PluginErrorKind>(Object.entries(codes).map(([kind, code]) => [code, kind as PluginErrorKind]));

export class PluginError extends Error {
  override readonly name: string = "PluginError";
  constructor(
    readonly kind: PluginErrorKind,
    message: string,
    /** The status code this error leaves the plugin with: the kind's, unless passed through (see withCode). */
    readonly code: Code = codes[kind],
  ) {
    super(message);
  }

  static invalidArgument(message: string): PluginError {
    return new PluginError("invalid-argument", message);
  }
  static permissionDenied(message: string): PluginError {
    return new PluginError("permission-denied", message);
  }
  static failedPrecondition(message: string): PluginError {
    return new PluginError("failed-precondition", message);
  }
  static notFound(message: string): PluginError {
    return new PluginError("not-found", message);
  }
  static unavailable(message: string): PluginError {
    return new PluginError("unavailable", message);
  }
  static internal(message: string): PluginError {
    return new PluginError("internal", message);
  }
  /** A plain Go error crossing gRPC (SPIRE returns many as they are): Unknown. */
  static unknown(message: string): PluginError {
    return new PluginError("unknown", message);
  }
  /**
   * Keeps another service's status code with our message, as SPIRE passes a
   * host service's status through. A code with no failing kind (OK, or a
   * number outside gRPC's table) leaves as that code all the same; its kind
   * reads "unknown".
   */
  static withCode(code: Code, message: string): PluginError {
    return new PluginError(kinds.get(code) ?? "unknown", message, code);
  }
}

/** The status code of a kind. */
export function codeOfKind(kind: PluginErrorKind): Code {
  return codes[kind];
}

/** RpcError passes through, a PluginError keeps its code, anything else is Internal with its message. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof PluginError) return new RpcError(e.code, e.message);
  return new RpcError(Code.INTERNAL, e instanceof Error ? e.message : String(e));
}

/** A streaming (bidi or server-stream) handler whose errors leave as statuses (see toRpcError). */
export function withStatus<A extends unknown[], T>(handler: (...args: A) => AsyncGenerator<T>): (...args: A) => AsyncGenerator<T> {
  return async function* (...args: A) {
    try {
      yield* handler(...args);
    } catch (e) {
      throw toRpcError(e);
    }
  };
}

/** A unary handler whose errors leave as statuses (see toRpcError). */
export function withUnaryStatus<A extends unknown[], T>(handler: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (e) {
      throw toRpcError(e);
    }
  };
}
