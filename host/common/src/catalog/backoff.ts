/** Restart pacing for a crashed plugin: exponential, capped, and forgiven after a stable run. */
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A plugin that stayed up this long starts again from the initial delay. */
  readonly resetAfterMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 60_000 };

/** Delay before restart number `attempt` (0-based) of a run of failures. */
export function restartDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
}
