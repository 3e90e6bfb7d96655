/**
 * The key manager's background work, as SPIRE runs it, owned by one
 * `KeyManagerTasks` per configuration and stopped (abort signal) when a
 * reconfiguration replaces it:
 *
 * - keep-alive, every 6 hours: refresh `spire-last-update` on this server's keys;
 * - stale-key sweep, every 48 hours: queue other servers' two-week-stale keys
 *   for destruction, mark emptied ones inactive;
 * - destruction: schedule queued versions for destruction one by one, backing
 *   off (1 s doubling to 60 s) after a failure.
 *
 * Time comes from a Clock, so tests move it by hand.
 */
import type { Clock, Logger } from "@signet/plugin-sdk";
import type { GcpKmsKeyManager } from "./keymanager.js";

export const keepActiveIntervalMs = 6 * 3600 * 1000;
export const disposeIntervalMs = 48 * 3600 * 1000;
export const destroyBackoffMinMs = 1000;
export const destroyBackoffMaxMs = 60_000;

export class KeyManagerTasks {
  private readonly abort = new AbortController();
  private readonly running: Promise<void>[];

  /** Starts the three tasks over `keys`. */
  constructor(
    private readonly keys: GcpKmsKeyManager,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    const { signal } = this.abort;
    this.running = [
      this.every(keepActiveIntervalMs, "keep CryptoKeys active", () => keys.keepActive(), signal),
      this.every(disposeIntervalMs, "dispose stale CryptoKeys", () => keys.disposeStale(), signal),
      this.destroyLoop(signal),
    ];
  }

  /** Stops every task and resolves once none is running. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.running);
  }

  private async every(intervalMs: number, what: string, work: () => Promise<void>, signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.clock.sleep(intervalMs, signal);
      if (signal.aborted) return;
      try {
        await work();
      } catch (e) {
        this.log.error(`Failed to ${what}`, { reason: (e as Error).message });
      }
    }
  }

  private async destroyLoop(signal: AbortSignal): Promise<void> {
    let backoff = destroyBackoffMinMs;
    for (;;) {
      const name = await this.keys.destroyQueue.take(signal);
      if (name === undefined) return;
      let outcome;
      try {
        outcome = await this.keys.destroy(name);
      } catch (e) {
        this.log.error("It was not possible to schedule CryptoKeyVersion for destruction", { crypto_key_version_name: name, reason: (e as Error).message });
        outcome = "retry";
      }
      if (outcome === "done") {
        backoff = destroyBackoffMinMs;
        continue;
      }
      backoff = Math.min(backoff * 2, destroyBackoffMaxMs);
      await this.clock.sleep(backoff, signal);
    }
  }
}
