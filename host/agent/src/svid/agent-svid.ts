/**
 * The agent's own SVID and its rotation (SPIRE's pkg/agent/svid/rotator):
 * rotated once a jittered half of its lifetime has passed, or at once when
 * it chains to a tainted authority. A re-attestable agent attests again on a
 * fresh connection; otherwise it calls RenewAgent over the current mTLS
 * connection. The new SVID is stored, and the shared connection released so
 * the next call presents it.
 */
import type { KeyObject } from "node:crypto";
import type { Clock, Logger } from "@signet/host-common";
import type { ClientIdentity } from "../client/server-tls.js";
import { csrFor, generateKey } from "../keys/keys.js";
import type { AgentStorage } from "../storage/storage.js";
import { rotationTime, type Validity, validityOf } from "./rotation.js";

export interface AgentSvidState extends ClientIdentity {
  readonly chain: readonly Buffer[];
  readonly privateKey: KeyObject;
  readonly reattestable: boolean;
  readonly validity: Validity;
  /** When to rotate (ms). */
  readonly rotateAt: number;
}

export interface AgentSvidOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly storage: AgentStorage;
  /** Full node attestation on a fresh connection (re-attestable agents). */
  readonly reattest: () => Promise<{ chain: readonly Buffer[]; privateKey: KeyObject; reattestable: boolean }>;
  /** RenewAgent over the current connection. */
  readonly renew: (csr: Buffer) => Promise<readonly Buffer[]>;
  /** Called after every rotation (release the shared connection). */
  readonly onRotated: (state: AgentSvidState) => void;
  /** Called when rotating failed; the caller decides (PermissionDenied reasons). Answer true to keep retrying. */
  readonly onError: (err: unknown) => Promise<boolean> | boolean;
  readonly availabilityTargetMs?: number;
  /** Longest sleep between checks, so a changed clock or taint is noticed (SPIRE checks every 5 s). */
  readonly checkIntervalMs?: number;
}

export class AgentSvid {
  private state: AgentSvidState;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private forced = false;
  private rotating: Promise<void> | undefined;

  constructor(
    initial: { chain: readonly Buffer[]; privateKey: KeyObject; reattestable: boolean },
    private readonly options: AgentSvidOptions,
  ) {
    this.state = this.stateOf(initial);
  }

  current(): AgentSvidState {
    return this.state;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Rotate at the next check (the SVID chains to a tainted authority). */
  forceRotation(): void {
    this.forced = true;
  }

  /** One rotation now, whatever the time; a caller arriving during a rotation shares it. */
  rotate(): Promise<void> {
    this.rotating ??= this.rotateOnce().finally(() => {
      this.rotating = undefined;
    });
    return this.rotating;
  }

  private async rotateOnce(): Promise<void> {
    const log = this.options.log;
    let next: { chain: readonly Buffer[]; privateKey: KeyObject; reattestable: boolean };
    if (this.state.reattestable) {
      log.info("Re-attesting to rotate the agent SVID");
      next = await this.options.reattest();
    } else {
      const key = generateKey("ec-p256");
      const chain = await this.options.renew(await csrFor(key));
      next = { chain, privateKey: key.privateKey, reattestable: false };
    }
    await this.options.storage.storeSvid(next);
    this.state = this.stateOf(next, this.options.clock.now().getTime());
    this.forced = false;
    log.info("Agent SVID rotated", { expires_at: new Date(this.state.validity.notAfter).toISOString() });
    this.options.onRotated(this.state);
  }

  private async run(): Promise<void> {
    const { clock } = this.options;
    const check = this.options.checkIntervalMs ?? 5_000;
    let backoff = 0;
    while (!this.abort.signal.aborted) {
      const now = clock.now().getTime();
      const wait = backoff > 0 ? backoff : Math.min(check, Math.max(0, this.state.rotateAt - now));
      if (wait > 0 || backoff > 0) await clock.sleep(wait, this.abort.signal);
      if (this.abort.signal.aborted) return;
      if (!this.forced && clock.now().getTime() < this.state.rotateAt) {
        backoff = 0;
        continue;
      }
      try {
        await this.rotate();
        backoff = 0;
      } catch (e) {
        this.options.log.error("Could not rotate agent SVID", { error: e instanceof Error ? e.message : String(e) });
        if (!(await this.options.onError(e))) return;
        backoff = Math.min(Math.max(backoff * 2, 1_000), check);
      }
    }
  }

  /** `receivedAt`: when a fresh SVID arrived (its lifetime counts from then, not from the back-dated notBefore). */
  private stateOf(s: { chain: readonly Buffer[]; privateKey: KeyObject; reattestable: boolean }, receivedAt?: number): AgentSvidState {
    const validity = validityOf(s.chain[0]!);
    return { ...s, validity, rotateAt: rotationTime(validity, Math.random(), this.options.availabilityTargetMs, receivedAt) };
  }
}
