/**
 * What the aws_kms tests share: a plugin configured in process against the KMS
 * fake through the real SDK clients, with a clock the test moves.
 */
import { createLogger } from "@signet/plugin-sdk";
import { ManualClock } from "../../../../test/fakes/clock.js";
import type { FakeKms } from "../../../../test/fakes/aws/kms.js";
import { createAwsClients } from "../aws-clients.js";
import type { AwsKmsConfig } from "../config.js";
import { type ConfiguredPlugin, type PluginDeps, configurePlugin } from "../plugin.js";

export const trustDomain = "example.org";
export const quiet = createLogger({ level: "error", write: () => {} });

let made = 0;

export function configFor(kms: FakeKms, extra: Partial<AwsKmsConfig> = {}): AwsKmsConfig {
  return {
    region: kms.region,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    identity: { kind: "value", serverId: `test-${process.pid}-${++made}` },
    keyTags: [],
    tagBasedKeyDiscovery: false,
    ...extra,
  };
}

export async function start(kms: FakeKms, config: AwsKmsConfig, deps: Partial<PluginDeps> & { clock?: ManualClock } = {}): Promise<ConfiguredPlugin> {
  return configurePlugin(config, trustDomain, {
    log: quiet,
    clock: deps.clock ?? new ManualClock(),
    clients: (c) => createAwsClients(c, kms.url),
    ...deps,
  });
}
