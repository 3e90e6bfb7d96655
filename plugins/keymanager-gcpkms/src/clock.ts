/**
 * Time as the key manager's background tasks see it: passed in, so tests
 * drive the 6-hour keep-alive and 48-hour stale-key sweep with a hand-moved
 * clock (test/fakes/clock.ts implements this) instead of waiting.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      // A sleeping task must not keep the plugin process alive on its own.
      timer.unref();
      signal.addEventListener("abort", done, { once: true });
    }),
};
