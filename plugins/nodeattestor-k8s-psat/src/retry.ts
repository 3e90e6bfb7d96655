/**
 * Calls to a cluster's API server within the attestation's deadline: each attempt has its own
 * timeout, transient failures (the server busy or restarting, a dropped connection, an attempt
 * timing out) are tried again after a growing, jittered pause, and nothing outlives the caller's
 * signal (the RPC's deadline or cancellation, as SPIRE's RPC context bounds its client-go calls).
 */
import { systemClock } from "@signet/plugin-sdk";

export interface RetryPolicy {
  /** Longest one request may take. */
  readonly attemptTimeoutMs: number;
  /** First pause between attempts; each later one doubles, up to maxBackoffMs. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attemptTimeoutMs: 10_000, initialBackoffMs: 100, maxBackoffMs: 2_000 };

export interface RetryOptions {
  readonly signal: AbortSignal;
  readonly policy: RetryPolicy;
  readonly isTransient: (e: unknown) => boolean;
  /** Waits `ms` or until `signal` aborts (tests pass one that does not wait). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/** The caller gave up (deadline or cancellation) before an attempt succeeded; Go's wording. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
}

export async function withRetries<T>(op: (signal: AbortSignal) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { signal, policy } = opts;
  const sleep = opts.sleep ?? systemClock.sleep;
  const random = opts.random ?? Math.random;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) throw deadlineError(signal, lastError);
    const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(policy.attemptTimeoutMs)]);
    try {
      return await op(attemptSignal);
    } catch (e) {
      // The abort itself says nothing; the attempt before it may.
      if (signal.aborted) throw deadlineError(signal, lastError);
      const attemptTimedOut = attemptSignal.aborted;
      if (!attemptTimedOut && !opts.isTransient(e)) throw e;
      lastError = attemptTimedOut ? new Error(`no answer within ${policy.attemptTimeoutMs} ms`) : e;
    }
    const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 20));
    await sleep(ceiling / 2 + (random() * ceiling) / 2, signal);
  }
}

function deadlineError(signal: AbortSignal, last: unknown): DeadlineError {
  const reason = (signal.reason as Error | undefined)?.name === "TimeoutError" ? "context deadline exceeded" : "context canceled";
  const detail = last === undefined ? "" : ` (last attempt: ${last instanceof Error ? last.message : String(last)})`;
  return new DeadlineError(`${reason}${detail}`);
}
