/**
 * Time as a plugin's background tasks see it (a KMS key manager's keep-alive and stale-key sweeps,
 * say): passed in, so tests drive hours of schedule with a clock they move by hand
 * (test/fakes/clock.ts implements this interface) instead of waiting. Plugins run the system's.
 * The hosts have their own Clock of the same shape (host/common); a plugin never imports a host.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
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
