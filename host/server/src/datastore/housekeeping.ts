/**
 * Periodic datastore housekeeping (SPIRE's pruners): expired registration
 * entries every 5 minutes, expired join tokens, change-feed events older than
 * `experimental.prune_events_older_than`, and — when configured — attested
 * nodes whose SVID expired long ago. Each task logs what it removed and never
 * stops the loop when the datastore fails.
 */
import type { Logger } from "@signet/host-common";
import type { DataStore } from "./datastore.js";

export interface HousekeepingOptions {
  readonly dataStore: DataStore;
  readonly log: Logger;
  /** Unix seconds now. */
  readonly now?: () => number;
  /** Interval between runs (SPIRE prunes entries every 5 min). */
  readonly intervalMs?: number;
  readonly pruneEventsOlderThanSeconds: number;
  /** prune_attested_nodes_expired_for, seconds; undefined = off. */
  readonly pruneAttestedNodesExpiredForSeconds?: number;
  readonly pruneTofuNodes?: boolean;
}

export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  private eventHorizon = 0;

  constructor(private readonly options: HousekeepingOptions) {
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  start(): void {
    if (this.timer) return;
    const interval = this.options.intervalMs ?? 5 * 60_000;
    this.timer = setInterval(() => void this.runOnce(), interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every task; overlapping passes are skipped. */
  runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { dataStore } = this.options;
    const now = this.now();
    await this.task("Pruned expired registration entries", async () => (await dataStore.pruneEntries({ expiresBefore: BigInt(now) })).count);
    await this.task("Pruned expired join tokens", async () => (await dataStore.pruneJoinTokens({ expiresBefore: BigInt(now) })).count);
    await this.task("Pruned old change-feed events", async () => {
      const res = await dataStore.pruneEvents({ olderThanSeconds: BigInt(this.options.pruneEventsOlderThanSeconds) });
      const horizon = Number(res.prunedThroughEventId);
      const advanced = horizon > this.eventHorizon ? horizon : 0;
      this.eventHorizon = Math.max(this.eventHorizon, horizon);
      return advanced;
    }, "pruned_through_event_id");
    const expiredFor = this.options.pruneAttestedNodesExpiredForSeconds;
    if (expiredFor !== undefined && expiredFor > 0) {
      await this.task("Pruned attested nodes", async () =>
        (await dataStore.pruneAttestedNodes({
          expiredBefore: BigInt(now - expiredFor),
          includeNonReattestable: this.options.pruneTofuNodes ?? false,
        })).count,
      );
    }
  }

  private async task(message: string, run: () => Promise<number>, field = "count"): Promise<void> {
    try {
      const n = await run();
      if (n > 0) this.options.log.info(message, { [field]: n });
    } catch (e) {
      this.options.log.error(`${message.replace(/^Pruned/, "Failed to prune")}`, { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
