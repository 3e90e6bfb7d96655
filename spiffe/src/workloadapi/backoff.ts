/**
 * How watchers wait between failed streams: go-spiffe's linear backoff (1 s, 2 s, 3 s, …
 * capped at 30 s), reset whenever a message arrives.
 */

export interface BackoffOptions {
  /** First delay and the step between delays (ms). Default 1000. */
  readonly initialMs?: number;
  /** Largest delay (ms). Default 30000. */
  readonly maxMs?: number;
}

export class LinearBackoff {
  private attempts = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
  }

  /** The next delay in ms: initial × attempt, capped. */
  next(): number {
    this.attempts++;
    return Math.min(this.initialMs * this.attempts, this.maxMs);
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
