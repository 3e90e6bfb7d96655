/**
 * SPIRE's alias-based housekeeping, which lets servers of one trust domain
 * clean up after each other without talking:
 *
 * - refresh aliases (every 6 h): re-point each of this server's aliases at the
 *   key it already names, which bumps the alias's LastUpdatedDate: the sign
 *   that this server is alive. An alias that now names another key (a replica
 *   with the same key_identifier_value rotated it) is left alone.
 * - dispose aliases (every 24 h): an alias of another server of this trust
 *   domain not refreshed for two weeks is deleted and its key queued for
 *   deletion (that server is gone).
 * - dispose keys (every 48 h): a key whose description says it belongs to this
 *   trust domain, that no alias names and that is older than 48 h is queued
 *   for deletion (a server failed between CreateKey and CreateAlias).
 *
 * Each task is a method a test can call; `startMaintenance` runs them on the
 * clock until its signal aborts. Failures are logged and the task runs again
 * at its next period.
 */
import { DeleteAliasCommand, DescribeKeyCommand, type KMSClient, ListAliasesCommand, UpdateAliasCommand } from "@aws-sdk/client-kms";
import type { Clock, Logger } from "@signet/plugin-sdk";
import { callSignal, describeAwsError } from "./aws-clients.js";
import type { DeletionQueue } from "./deletion-queue.js";
import type { KmsKey } from "./kms-key.js";
import { listAliases, listKeys } from "./listings.js";
import type { Names } from "./names.js";

const hour = 3600 * 1000;
export const refreshAliasesPeriodMs = 6 * hour;
export const disposeAliasesPeriodMs = 24 * hour;
export const disposeKeysPeriodMs = 48 * hour;
/** An alias of another server older than this is stale. */
export const staleAliasAgeMs = 14 * 24 * hour;
/** A key without an alias older than this is an orphan. */
export const orphanKeyAgeMs = 48 * hour;

export interface MaintenanceDeps {
  readonly kms: KMSClient;
  readonly names: Names;
  readonly clock: Clock;
  readonly log: Logger;
  readonly queue: DeletionQueue;
  /** This server's keys right now. */
  readonly keys: () => readonly KmsKey[];
}

export type TaskName = "refresh-aliases" | "dispose-aliases" | "dispose-keys";

export class Maintenance {
  constructor(private readonly deps: MaintenanceDeps) {}

  async refreshAliases(signal?: AbortSignal): Promise<void> {
    const { kms, log } = this.deps;
    log.debug("Refreshing aliases");
    const problems: string[] = [];
    for (const key of this.deps.keys()) {
      if (signal?.aborted) return;
      try {
        const { KeyMetadata: current } = await kms.send(new DescribeKeyCommand({ KeyId: key.aliasName }), { abortSignal: callSignal(signal) });
        if (!current?.Arn) throw new Error(`malformed describe key response for alias ${JSON.stringify(key.aliasName)}`);
        if (current.Arn !== key.arn) {
          log.warn("Alias target differs from cache, skipping refresh to avoid reverting a rotation", {
            alias_name: key.aliasName,
            cached_arn: key.arn,
            current_arn: current.Arn,
          });
          continue;
        }
        await kms.send(new UpdateAliasCommand({ AliasName: key.aliasName, TargetKeyId: key.arn }), { abortSignal: callSignal(signal) });
      } catch (e) {
        log.error("Failed to refresh alias", { alias_name: key.aliasName, key_arn: key.arn, reason: describeAwsError(e) });
        problems.push(describeAwsError(e));
      }
    }
    if (problems.length) throw new Error(problems.join(": "));
  }

  async disposeAliases(signal?: AbortSignal): Promise<void> {
    const { kms, names, clock, log, queue } = this.deps;
    log.debug("Looking for aliases in trust domain to dispose");
    const problems: string[] = [];
    for await (const alias of listAliases(kms, signal)) {
      const { AliasName: name, AliasArn: aliasArn, LastUpdatedDate: updated } = alias;
      if (!name || !aliasArn || !updated) continue;
      if (!name.startsWith(names.trustDomainAliasPrefix()) || name.startsWith(names.serverAliasPrefix())) continue;
      if (clock.now().getTime() - updated.getTime() < staleAliasAgeMs) continue;
      const aliasLog = log.with({ alias_name: name });
      aliasLog.debug("Found alias in trust domain beyond threshold");
      try {
        const { KeyMetadata: metadata } = await kms.send(new DescribeKeyCommand({ KeyId: aliasArn }), { abortSignal: callSignal(signal) });
        if (!metadata?.Arn) {
          aliasLog.error("Failed to clean up old KMS keys", { reason: "Missing data in AWS API DescribeKey response" });
          continue;
        }
        if (!metadata.Enabled) continue;
        try {
          await kms.send(new DeleteAliasCommand({ AliasName: name }), { abortSignal: callSignal(signal) });
        } catch (e) {
          throw new Error(`AWS API DeleteAlias failed: ${describeAwsError(e)}`);
        }
        queue.enqueue(metadata.Arn);
      } catch (e) {
        const reason = (e as Error).message.startsWith("AWS API") ? (e as Error).message : `AWS API DescribeKey failed: ${describeAwsError(e)}`;
        aliasLog.error("Failed to clean up old KMS keys.", { reason });
        problems.push(reason);
      }
    }
    if (problems.length) throw new Error(problems.join(": "));
  }

  async disposeKeys(signal?: AbortSignal): Promise<void> {
    const { kms, names, clock, log, queue } = this.deps;
    log.debug("Looking for keys in trust domain to dispose");
    const problems: string[] = [];
    for await (const key of listKeys(kms, signal)) {
      if (!key.KeyArn) continue;
      const keyLog = log.with({ key_arn: key.KeyArn });
      try {
        const { KeyMetadata: metadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyArn }), { abortSignal: callSignal(signal) });
        if (!metadata?.Arn || metadata.Description === undefined || !metadata.CreationDate) {
          keyLog.error("Malformed describe key response while trying to dispose");
          continue;
        }
        if (!metadata.Enabled || !metadata.Description.startsWith(names.trustDomainDescriptionPrefix())) continue;
        const { Aliases: aliases } = await kms.send(new ListAliasesCommand({ KeyId: key.KeyArn, Limit: 1 }), { abortSignal: callSignal(signal) });
        if (!aliases || aliases.length > 0) continue;
        if (clock.now().getTime() - metadata.CreationDate.getTime() < orphanKeyAgeMs) continue;
        keyLog.debug("Found key in trust domain beyond threshold");
        queue.enqueue(metadata.Arn);
      } catch (e) {
        keyLog.error("Failed to describe key to dispose", { reason: describeAwsError(e) });
        problems.push(describeAwsError(e));
      }
    }
    if (problems.length) throw new Error(problems.join(": "));
  }
}

/** Runs the three tasks on `clock`, each after every period of its own, until `signal` aborts. */
export function startMaintenance(maintenance: Maintenance, clock: Clock, log: Logger, signal: AbortSignal, onRun?: (task: TaskName, error?: Error) => void): Promise<void> {
  const every = async (task: TaskName, periodMs: number, run: (signal: AbortSignal) => Promise<void>) => {
    while (!signal.aborted) {
      await clock.sleep(periodMs, signal);
      if (signal.aborted) return;
      let error: Error | undefined;
      try {
        await run(signal);
      } catch (e) {
        error = e as Error;
        log.error("Key maintenance task failed", { task, reason: error.message });
      }
      onRun?.(task, error);
    }
  };
  return Promise.all([
    every("refresh-aliases", refreshAliasesPeriodMs, (s) => maintenance.refreshAliases(s)),
    every("dispose-aliases", disposeAliasesPeriodMs, (s) => maintenance.disposeAliases(s)),
    every("dispose-keys", disposeKeysPeriodMs, (s) => maintenance.disposeKeys(s)),
  ]).then(() => undefined);
}
