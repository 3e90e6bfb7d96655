/**
 * Why an attestation was refused, as a value with a kind; `toRpcError` (the edge, in index.ts)
 * turns the kind into SPIRE's gRPC code. Messages are SPIRE's wording.
 */
import { Code, RpcError } from "@signet/plugin-sdk";

export type AttestErrorKind = "invalid-argument" | "permission-denied" | "failed-precondition" | "internal" | "unknown" | "code";

export class AttestError extends Error {
  override readonly name = "AttestError";
  constructor(
    readonly kind: AttestErrorKind,
    message: string,
    /** Only for kind "code": a status code passed through as SPIRE does (e.g. from AgentStore). */
    readonly code: Code = Code.UNKNOWN,
  ) {
    super(message);
  }

  static invalidArgument(message: string): AttestError {
    return new AttestError("invalid-argument", message);
  }
  static permissionDenied(message: string): AttestError {
    return new AttestError("permission-denied", message);
  }
  static failedPrecondition(message: string): AttestError {
    return new AttestError("failed-precondition", message);
  }
  static internal(message: string): AttestError {
    return new AttestError("internal", message);
  }
  /** A plain Go error crossing gRPC (SPIRE's agent returns IMDS errors as they are): Unknown. */
  static unknown(message: string): AttestError {
    return new AttestError("unknown", message);
  }
  /** Keeps another service's status code, with our message. */
  static withCode(code: Code, message: string): AttestError {
    return new AttestError("code", message, code);
  }
}

const codes: Readonly<Record<Exclude<AttestErrorKind, "code">, Code>> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "permission-denied": Code.PERMISSION_DENIED,
  "failed-precondition": Code.FAILED_PRECONDITION,
  internal: Code.INTERNAL,
  unknown: Code.UNKNOWN,
};

/** The one place kinds become status codes; anything unexpected is Internal with its message. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof AttestError) return new RpcError(e.kind === "code" ? e.code : codes[e.kind], e.message);
  return new RpcError(Code.INTERNAL, e instanceof Error ? e.message : String(e));
}

/** A bidi handler whose errors leave as statuses (see toRpcError). */
export function withStatus<A extends unknown[], T>(handler: (...args: A) => AsyncGenerator<T>): (...args: A) => AsyncGenerator<T> {
  return async function* (...args: A) {
    try {
      yield* handler(...args);
    } catch (e) {
      throw toRpcError(e);
    }
  };
}
