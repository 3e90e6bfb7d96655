/**
 * SPIRE's retry of the container lookup: the first try plus 3 retries,
 * waiting 100 ms, 200 ms and 400 ms in between, for any error (a container
 * that has just started may not be known to the daemon yet). The wait ends
 * early, with "context canceled", when the call is cancelled or its deadline
 * passes, so a retry never outlives the RPC.
 */
import { CallAborted } from "./errors.js";

export interface RetryPolicy {
  readonly retries: number;
  readonly initialBackoffMs: number;
  /** Waits `ms`, or rejects with CallAborted when `signal` aborts; tests record the waits instead. */
  readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

export const spireRetryPolicy: RetryPolicy = { retries: 3, initialBackoffMs: 100, sleep: abortableSleep };

export async function retry<T>(policy: RetryPolicy, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (e instanceof CallAborted || i === policy.retries) throw e;
    }
    await policy.sleep(policy.initialBackoffMs * 2 ** i, signal);
  }
}

export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new CallAborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CallAborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
