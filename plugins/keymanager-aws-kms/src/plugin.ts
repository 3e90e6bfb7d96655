/**
 * One configured aws_kms KeyManager with its background work: what Configure
 * builds from a configuration and the trust domain, in SPIRE's order (policy
 * file, server id, clients, key discovery), and what a reconfiguration or
 * shutdown stops. The deletion worker and the maintenance tasks share one
 * stop signal.
 */
import { readFile } from "node:fs/promises";
import { type Clock, type Logger, PluginError, systemClock } from "@signet/plugin-sdk";
import { type AwsClients, createAwsClients } from "./aws-clients.js";
import type { AwsKmsConfig } from "./config.js";
import { DeletionQueue } from "./deletion-queue.js";
import { fetchKeysViaAliases } from "./fetcher.js";
import { callerKeyPolicy } from "./key-policy.js";
import { AwsKmsKeyManager, type KeyPolicySource } from "./keymanager.js";
import { Maintenance, type TaskName, startMaintenance } from "./maintenance.js";
import { Names } from "./names.js";
import { getOrCreateServerId } from "./server-id.js";

export interface PluginDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** How AWS clients are made (tests may point them elsewhere); default from the configuration. */
  readonly clients?: (config: AwsKmsConfig) => AwsClients;
  /** Called after each maintenance task run (tests). */
  readonly onTaskRun?: (task: TaskName, error?: Error) => void;
}

export interface ConfiguredPlugin {
  readonly keys: AwsKmsKeyManager;
  readonly serverId: string;
  readonly queue: DeletionQueue;
  readonly maintenance: Maintenance;
  /** Stops the background work and waits for it to end. */
  stop(): Promise<void>;
}

export async function configurePlugin(config: AwsKmsConfig, trustDomain: string, deps: PluginDeps): Promise<ConfiguredPlugin> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  let fixedPolicy: string | undefined;
  if (config.keyPolicyFile !== undefined) {
    try {
      fixedPolicy = await readFile(config.keyPolicyFile, "utf8");
    } catch (e) {
      throw new PluginError("internal", `failed to read file configured in 'key_policy_file': ${(e as Error).message}`);
    }
  }
  const serverId = config.identity.kind === "value" ? config.identity.serverId : await getOrCreateServerId(config.identity.path);
  log.debug("Loaded server id", { server_id: serverId });

  log.warn(
    "Alias-based key discovery will be deprecated in a future version and removed in a later one. Enable 'enable_tag_based_key_discovery' to switch to tag-based discovery, which efficiently finds only the keys managed by this plugin instance.",
  );

  const { kms, sts } = (deps.clients ?? createAwsClients)(config);
  const names = new Names(trustDomain, serverId);
  log.debug("Fetching keys using legacy alias-based discovery from KMS");
  const found = await fetchKeysViaAliases(kms, names);
  for (const key of found) log.debug("Key loaded", { key_arn: key.arn, alias_name: key.aliasName });

  const queue = new DeletionQueue(log);
  const policy: KeyPolicySource = fixedPolicy !== undefined ? { kind: "fixed", policy: fixedPolicy } : { kind: "caller", resolve: () => callerKeyPolicy(sts, log) };
  const keys = new AwsKmsKeyManager({ kms, names, log, queue, policy, keyTags: config.keyTags }, found);
  const maintenance = new Maintenance({ kms, names, clock, log, queue, keys: () => keys.keys() });

  const stopper = new AbortController();
  const running = Promise.all([queue.run(kms, clock, stopper.signal), startMaintenance(maintenance, clock, log, stopper.signal, deps.onTaskRun)]);
  return {
    keys,
    serverId,
    queue,
    maintenance,
    async stop() {
      stopper.abort();
      await running;
    },
  };
}
