/**
 * The federation bundle client (SPIRE's bundle client Manager): keeps one
 * refresh loop per federated trust domain, in step with the relationships of
 * the config and the DataStore (re-read every 10 s, or at once when the
 * TrustDomain API changed one), and refreshes a trust domain on demand for
 * RefreshBundle. Each loop polls on the schedule of refresh-schedule.ts.
 */
import type { Logger } from "@signet/host-common";
import { TrustDomain } from "@signet/spiffe";
import type { Clock } from "../ca/clock.js";
import { type BundleUpdater, type UpdateResult } from "./bundle-updater.js";
import type { TrustDomainConfig } from "./config.js";
import { configRefreshIntervalMs, nextRefreshMs } from "./refresh-schedule.js";
import type { RelationshipSource } from "./relationship-source.js";

export interface BundleManagerDeps {
  readonly source: RelationshipSource;
  readonly newUpdater: (trustDomain: TrustDomain, config: TrustDomainConfig) => BundleUpdater;
  readonly clock: Clock;
  readonly log: Logger;
}

interface Managed {
  readonly updater: BundleUpdater;
  readonly stop: AbortController;
  readonly loop: Promise<void>;
}

export class BundleManager {
  private readonly updaters = new Map<string, Managed>();
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private configLock: Promise<void> = Promise.resolve();
  private running?: Promise<void>;

  constructor(private readonly deps: BundleManagerDeps) {}

  /** Starts the config loop (which starts the per-trust-domain loops). */
  start(): void {
    this.running ??= this.configLoop();
  }

  /**
   * Stops every loop and waits for them. A reconciliation already under way
   * (RefreshBundle's) is waited for first, so no loop it starts outlives stop.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake.abort();
    await this.running;
    await this.configLock;
    const all = [...this.updaters.values()];
    this.updaters.clear();
    for (const m of all) m.stop.abort();
    await Promise.all(all.map((m) => m.loop));
  }

  /** Re-reads the relationships now (after the TrustDomain API changed them). */
  triggerConfigReload(): void {
    this.wake.abort();
  }

  /** Trust domains with a running refresh loop, sorted. */
  managedTrustDomains(): string[] {
    return [...this.updaters.keys()].sort();
  }

  /**
   * Refreshes `trustDomain`'s bundle now. Resolves false when no
   * relationship manages it; throws what the update failed with.
   */
  async refreshBundleFor(trustDomain: TrustDomain, signal: AbortSignal): Promise<boolean> {
    try {
      await this.refreshConfigs();
    } catch (err) {
      this.deps.log.error("Failed to reload configs", { error: messageOf(err) });
    }
    const managed = this.updaters.get(trustDomain.name);
    if (!managed) return false;
    const result = await managed.updater.updateBundle(signal);
    if (result.error) throw result.error;
    return true;
  }

  private async configLoop(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      try {
        await this.refreshConfigs();
      } catch (err) {
        this.deps.log.error("Failed to reload configs", { error: messageOf(err) });
      }
      if (stop.aborted) break;
      // A trigger that came during the reload asks for another one at once.
      // stop() aborts `wake` too, so one signal serves (no AbortSignal.any kept alive by `stop` every 10 s).
      if (!this.wake.signal.aborted) await this.deps.clock.sleep(configRefreshIntervalMs, this.wake.signal);
      if (stop.aborted) break;
      this.wake = new AbortController();
    }
    this.deps.log.info("Shutting down");
  }

  /** Reconciles the running loops with the relationships; one reconciliation at a time. */
  private refreshConfigs(): Promise<void> {
    const run = this.configLock.then(() => this.reconcile());
    this.configLock = run.catch(() => {});
    return run;
  }

  private async reconcile(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const configs = new Map(await this.deps.source.trustDomainConfigs());
    if (this.stopping.signal.aborted) return;
    const stale: Managed[] = [];
    for (const [td, managed] of this.updaters) {
      const config = configs.get(td);
      if (config) {
        if (managed.updater.setTrustDomainConfig(config)) {
          this.deps.log.info("Updated configuration for managed trust domain", { trust_domain: td, ...describe(config) });
        }
        configs.delete(td);
      } else {
        this.deps.log.info("Trust domain no longer managed", { trust_domain: td });
        stale.push(managed);
        this.updaters.delete(td);
      }
    }
    for (const [name, config] of configs) {
      let td: TrustDomain;
      try {
        td = TrustDomain.parse(name);
      } catch (err) {
        this.deps.log.warn("Ignoring federation relationship with an invalid trust domain", { trust_domain: name, error: messageOf(err) });
        continue;
      }
      this.deps.log.info("Trust domain is now managed", { trust_domain: name, ...describe(config) });
      const updater = this.deps.newUpdater(td, config);
      const stop = new AbortController();
      this.updaters.set(name, { updater, stop, loop: this.updaterLoop(updater, stop.signal) });
    }
    for (const m of stale) m.stop.abort();
    await Promise.all(stale.map((m) => m.loop));
  }

  private async updaterLoop(updater: BundleUpdater, stop: AbortSignal): Promise<void> {
    const log = this.deps.log.with({ trust_domain: updater.trustDomain.name });
    while (!stop.aborted) {
      const next = await this.updateOnce(updater, stop, log);
      if (stop.aborted) break;
      log.debug("Scheduling next bundle refresh", { at: new Date(this.deps.clock.now().getTime() + next).toISOString() });
      await this.deps.clock.sleep(next, stop);
    }
    log.info("No longer polling for updates");
  }

  private async updateOnce(updater: BundleUpdater, stop: AbortSignal, log: Logger): Promise<number> {
    log.debug("Polling for bundle update");
    let result: UpdateResult;
    try {
      result = await updater.updateBundle(stop);
    } catch (err) {
      result = { error: err instanceof Error ? err : new Error(String(err)) };
    }
    if (result.error && !stop.aborted) log.error("Error updating bundle", { error: result.error.message });
    if (result.stored) log.info("Bundle refreshed");
    return nextRefreshMs(result.stored, result.held);
  }
}

function describe(config: TrustDomainConfig): Record<string, string> {
  return { bundle_endpoint_url: config.endpointUrl, bundle_endpoint_profile: config.profile.kind };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
