/**
 * Why node attestation failed. The kind decides the gRPC code at the edge
 * (api/agent/v1); the message is SPIRE's full wording. "plugin" carries the
 * status code a NodeAttestor plugin (or the challenge relay) failed with,
 * which SPIRE passes through unchanged.
 */
export type AttestationErrorKind = "invalid" | "no-attestor" | "banned" | "internal" | "plugin";

export class AttestationError extends Error {
  override readonly name = "AttestationError";
  constructor(
    readonly kind: AttestationErrorKind,
    message: string,
    /** For kind "plugin": the gRPC status code to keep. */
    readonly code?: number,
  ) {
    super(message);
  }
}

export function causeOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
