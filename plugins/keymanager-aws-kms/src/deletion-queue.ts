/**
 * Keys waiting to be scheduled for deletion (a replaced key, a stale server's
 * key), and the worker that schedules them, as SPIRE's scheduleDeleteTask:
 * KMS deletes each after a 7-day pending window. A key KMS no longer has, an
 * invalid ARN, or a key already pending deletion is dropped with a log line;
 * any other failure puts the key back at the end of the queue and the worker
 * backs off (1 s doubling to 60 s). The queue holds at most 120 keys, as
 * SPIRE's channel; past that a key is left for the stale-key sweep.
 */
import { type KMSClient, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import type { Clock, Logger } from "@signet/plugin-sdk";
import { awsErrorCode, callSignal, describeAwsError } from "./aws-clients.js";

export const pendingWindowInDays = 7;
export const deletionQueueCapacity = 120;
const backoffMinMs = 1_000;
const backoffMaxMs = 60_000;

/** Failures that retrying cannot fix, with the reason SPIRE logs. */
const finalFailures: Readonly<Record<string, string>> = {
  NotFoundException: "No such key",
  InvalidArnException: "Invalid ARN",
  KMSInvalidStateException: "Key was on invalid state for deletion",
};

export class DeletionQueue {
  private readonly arns: string[] = [];
  private wake: (() => void) | undefined;
  private working = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly log: Logger) {}

  /** Queues `arn`; false (and an error logged) when the queue is full. */
  enqueue(arn: string): boolean {
    if (this.arns.length >= deletionQueueCapacity) {
      this.log.error("Failed to enqueue key for deletion", { key_arn: arn });
      return false;
    }
    this.arns.push(arn);
    this.log.debug("Key enqueued for deletion", { key_arn: arn });
    this.wake?.();
    return true;
  }

  get size(): number {
    return this.arns.length;
  }

  /** Resolves when nothing is queued and the worker is not scheduling a key (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.arns.length === 0 && !this.working) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The worker: schedules queued keys for deletion until `signal` aborts. */
  async run(kms: KMSClient, clock: Clock, signal: AbortSignal): Promise<void> {
    let backoff = backoffMinMs;
    while (!signal.aborted) {
      const arn = this.arns.shift();
      if (arn === undefined) {
        this.settleIdle();
        await this.nextArrival(signal);
        continue;
      }
      this.working = true;
      try {
        const retry = await this.schedule(kms, arn, signal);
        if (!retry) {
          backoff = backoffMinMs;
          continue;
        }
        this.arns.push(arn);
        this.log.debug("Key re-enqueued for deletion", { key_arn: arn });
        backoff = Math.min(backoff * 2, backoffMaxMs);
        await clock.sleep(backoff, signal);
      } finally {
        this.working = false;
      }
    }
    this.settleIdle();
  }

  /** Schedules one key; true when it should be tried again later. */
  private async schedule(kms: KMSClient, arn: string, signal: AbortSignal): Promise<boolean> {
    const log = this.log.with({ key_arn: arn });
    try {
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: pendingWindowInDays }), { abortSignal: callSignal(signal) });
      log.debug("Key scheduled for deletion");
      return false;
    } catch (e) {
      if (signal.aborted) return true;
      const final = finalFailures[awsErrorCode(e) ?? ""];
      if (final) {
        log.error("Failed to schedule key deletion", { reason: final });
        return false;
      }
      log.error("It was not possible to schedule key for deletion", { reason: describeAwsError(e) });
      return true;
    }
  }

  private nextArrival(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private settleIdle(): void {
    if (this.arns.length > 0 || this.working) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
