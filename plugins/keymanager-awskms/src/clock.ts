/**
 * Time as the background tasks see it: tests pass a clock they move by hand
 * (test/fakes/clock.ts), the plugin the system's.
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
      // A sleeping task never keeps the plugin process alive.
      timer.unref();
      signal.addEventListener("abort", done, { once: true });
    }),
};
