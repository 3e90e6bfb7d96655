/**
 * A clock tests move by hand. Implements the server's Clock
 * (host/server/src/ca/clock.ts): sleepers wake when `advance` passes their
 * deadline, and `sleepers()` lets a test wait until a loop is parked again,
 * so loop tests never depend on real time.
 */
export class ManualClock {
  private nowMs: number;
  private readonly waiting = new Set<{ until: number; wake: () => void }>();
  private readonly watchers = new Set<() => void>();

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.nowMs = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = {
        until: this.nowMs + Math.max(0, ms),
        wake: () => {
          this.waiting.delete(sleeper);
          signal.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.waiting.add(sleeper);
      signal.addEventListener("abort", sleeper.wake, { once: true });
      for (const w of this.watchers) w();
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has come. */
  advance(ms: number): void {
    this.nowMs += ms;
    for (const s of [...this.waiting]) if (s.until <= this.nowMs) s.wake();
  }

  /** Sets the time (forward only). */
  set(to: Date): void {
    this.advance(Math.max(0, to.getTime() - this.nowMs));
  }

  /** How many callers are asleep right now. */
  get sleeping(): number {
    return this.waiting.size;
  }

  /** Resolves once at least `n` callers are asleep (a loop finished its work and parked). */
  async sleepers(n = 1, timeoutMs = 10_000): Promise<void> {
    if (this.waiting.size >= n) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`timed out waiting for ${n} sleeper(s); ${this.waiting.size} asleep`));
      }, timeoutMs);
      const check = (): void => {
        if (this.waiting.size < n) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
    });
  }

  /** Advances by `ms`, then waits until `n` callers are asleep again. */
  async tick(ms: number, n = 1): Promise<void> {
    this.advance(ms);
    // Let woken loops leave their sleep before counting sleepers again.
    await new Promise((r) => setImmediate(r));
    await this.sleepers(n);
  }
}
