/**
 * The CA rotator (SPIRE's ca/rotator), owner of the "ca-rotator" loop: every
 * 10 s it makes sure an X.509 CA and a JWT key are active, prepares the next
 * ones once the current are past half-life (capped at 30 days before
 * expiry), and swaps them in at the last sixth (capped at 7 days). It also
 * prunes the bundle every 6 h and CA journals every 8 h.
 */
import type { Logger } from "@signet/host-common";
import type { Clock } from "./clock.js";
import type { CaManager } from "./manager.js";

export const rotateIntervalMs = 10_000;
export const pruneBundleIntervalMs = 6 * 3600 * 1000;
export const pruneCaJournalsIntervalMs = 8 * 3600 * 1000;

/** The manager calls the rotator makes. */
export type RotatingManager = Pick<
  CaManager,
  | "currentX509CaSlot"
  | "nextX509CaSlot"
  | "prepareX509Ca"
  | "activateX509Ca"
  | "rotateX509Ca"
  | "currentJwtKeySlot"
  | "nextJwtKeySlot"
  | "prepareJwtKey"
  | "activateJwtKey"
  | "rotateJwtKey"
  | "isJwtSvidsDisabled"
  | "pruneBundle"
  | "pruneCaJournals"
>;

export interface CaRotatorOptions {
  readonly manager: RotatingManager;
  readonly clock: Clock;
  readonly log: Logger;
}

export class CaRotator {
  /** The loop's name in logs. */
  static readonly owner = "ca-rotator";
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private failedRotations = 0;

  constructor(private readonly o: CaRotatorOptions) {}

  /** First rotation, before the server serves: fails when no X.509 CA could be made active. */
  async initialize(): Promise<void> {
    await this.rotate();
  }

  /** Starts the loop; stop() ends it. */
  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  /** Stops the loop and waits for the tick in progress, if any. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    this.abort = undefined;
  }

  /** How many rotation steps failed since start (SPIRE's health signal). */
  get failedRotationCount(): number {
    return this.failedRotations;
  }

  /** One tick: X.509 first; JWT only when an X.509 CA exists (the bundle needs it). */
  async rotate(): Promise<void> {
    const m = this.o.manager;
    let x509Error: unknown;
    try {
      await this.rotateX509Ca();
    } catch (e) {
      x509Error = e;
      this.failedRotations++;
      this.o.log.error("Unable to rotate X509 CA", { error: messageOf(e), owner: CaRotator.owner });
      if (m.currentX509CaSlot().isEmpty) throw e;
    }
    if (!m.isJwtSvidsDisabled()) {
      try {
        await this.rotateJwtKey();
      } catch (e) {
        this.failedRotations++;
        this.o.log.error("Unable to rotate JWT key", { error: messageOf(e), owner: CaRotator.owner });
        if (!x509Error) throw e;
      }
    }
    if (x509Error) throw x509Error;
  }

  private async rotateX509Ca(): Promise<void> {
    const m = this.o.manager;
    const now = this.o.clock.now();
    const current = m.currentX509CaSlot();
    if (current.isEmpty) {
      await m.prepareX509Ca();
      await m.activateX509Ca();
    }
    const cur = m.currentX509CaSlot();
    if (m.nextX509CaSlot().isEmpty && cur.shouldPrepareNext(now)) await m.prepareX509Ca();
    if (cur.shouldActivateNext(now)) await m.rotateX509Ca();
  }

  private async rotateJwtKey(): Promise<void> {
    const m = this.o.manager;
    const now = this.o.clock.now();
    if (m.currentJwtKeySlot().isEmpty) {
      await m.prepareJwtKey();
      await m.activateJwtKey();
    }
    const cur = m.currentJwtKeySlot();
    if (m.nextJwtKeySlot().isEmpty && cur.shouldPrepareNext(now)) await m.prepareJwtKey();
    if (cur.shouldActivateNext(now)) await m.rotateJwtKey();
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.o;
    let nextBundlePrune = clock.now().getTime() + pruneBundleIntervalMs;
    let nextJournalPrune = clock.now().getTime() + pruneCaJournalsIntervalMs;
    log.debug("CA rotator started", { owner: CaRotator.owner });
    while (!signal.aborted) {
      await clock.sleep(rotateIntervalMs, signal);
      if (signal.aborted) break;
      // Errors are logged by rotate(); the loop carries on.
      await this.rotate().catch(() => undefined);
      const now = clock.now().getTime();
      if (now >= nextBundlePrune) {
        nextBundlePrune = now + pruneBundleIntervalMs;
        await this.o.manager.pruneBundle().catch((e: unknown) => log.error("Could not prune CA certificates", { error: messageOf(e), owner: CaRotator.owner }));
      }
      if (now >= nextJournalPrune) {
        nextJournalPrune = now + pruneCaJournalsIntervalMs;
        await this.o.manager.pruneCaJournals().catch((e: unknown) => log.error("Could not prune CA journals", { error: messageOf(e), owner: CaRotator.owner }));
      }
    }
    log.debug("CA rotator stopped", { owner: CaRotator.owner });
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
