/**
 * From a parsed configuration to a working key manager, as SPIRE's Configure
 * does it: this server's ID (from the configuration or its file), the custom
 * IAM policy if any, the trust domain's label, a Cloud KMS client, and the
 * keys already in the key ring for this server. Failures are Internal, with
 * SPIRE's wording.
 */
import { type Clock, KeyManagerError, type Logger } from "@signet/plugin-sdk";
import type { GcpKmsConfig } from "./config.js";
import { fetchKeyEntries } from "./fetcher.js";
import { GcpKmsKeyManager } from "./keymanager.js";
import { type IamPolicy, type Kms, type KmsClientOptions, deadlineIn } from "./kms-client.js";
import { trustDomainHash } from "./naming.js";
import { readPolicyFile } from "./policy.js";
import { serverIdOf } from "./server-id.js";

export interface ConfigureDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly createKms: (options: KmsClientOptions) => Kms;
  readonly operationTimeoutMs?: number;
}

export async function openKeyManager(config: GcpKmsConfig, trustDomain: string, deps: ConfigureDeps): Promise<GcpKmsKeyManager> {
  const { clock, log } = deps;
  const serverId = await serverIdOf(config.keyIdentifier);
  log.debug("Loaded server id", { server_id: serverId });

  let customPolicy: IamPolicy | undefined;
  if (config.keyPolicyFile !== undefined) {
    try {
      customPolicy = await readPolicyFile(config.keyPolicyFile);
    } catch (e) {
      throw new KeyManagerError("internal", `could not parse policy file: ${(e as Error).message}`);
    }
  }

  let kms: Kms;
  try {
    kms = deps.createKms({ serviceAccountFile: config.serviceAccountFile });
  } catch (e) {
    throw new KeyManagerError("internal", `failed to create Google Cloud KMS client: ${(e as Error).message}`);
  }

  const identity = { serverId, trustDomainHash: trustDomainHash(trustDomain) };
  log.debug("Fetching keys from Cloud KMS", { key_ring: config.keyRing });
  try {
    const entries = await fetchKeyEntries({
      kms,
      clock,
      keyRing: config.keyRing,
      identity,
      deadline: deadlineIn(deps.operationTimeoutMs ?? 25_000),
      onForeignKey: (name) => log.warn("Could not get SPIRE Key ID from CryptoKey", { crypto_key_name: name }),
    });
    for (const e of entries) log.debug("Cloud KMS key loaded", { crypto_key_version_name: e.versionName, algorithm: e.algorithm });
    return new GcpKmsKeyManager({ kms, clock, log, keyRing: config.keyRing, identity, customPolicy, operationTimeoutMs: deps.operationTimeoutMs }, entries);
  } catch (e) {
    await kms.close().catch(() => {});
    throw e;
  }
}
