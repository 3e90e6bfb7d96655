/**
 * Finding this server's keys at Configure, as SPIRE's alias-based discovery
 * does (fetchKeyEntriesViaAlias): page through every alias of the account,
 * keep those under alias/SPIRE_SERVER/<trust domain>/<server id>/, and for
 * each (side by side) describe the key and read its public key. An alias
 * without a key, or a key someone disabled, stops Configure (FailedPrecondition)
 * so the operator can repair KMS rather than have the key silently replaced.
 */
import { DescribeKeyCommand, GetPublicKeyCommand, type KMSClient, type KeySpec } from "@aws-sdk/client-kms";
import { KeyType, PluginError, fingerprintOf } from "@signet/plugin-sdk";
import { callSignal, describeAwsError } from "./aws-clients.js";
import type { KmsKey } from "./kms-key.js";
import { listAliases } from "./listings.js";
import type { Names } from "./names.js";

export async function fetchKeysViaAliases(kms: KMSClient, names: Names): Promise<KmsKey[]> {
  const pending: Promise<KmsKey>[] = [];
  try {
    for await (const alias of listAliases(kms)) {
      if (!alias.AliasName) continue;
      const spireKeyId = names.spireKeyIdOf(alias.AliasName);
      if (spireKeyId === undefined) continue;
      if (!alias.AliasArn) throw new PluginError("internal", `found SPIRE alias without arn: name=${JSON.stringify(alias.AliasName)}`);
      if (!alias.TargetKeyId) {
        throw new PluginError("failed-precondition", `found SPIRE alias without key: name=${JSON.stringify(alias.AliasName)} arn=${JSON.stringify(alias.AliasArn)}`);
      }
      pending.push(keyOfAlias(kms, { AliasName: alias.AliasName, AliasArn: alias.AliasArn }, spireKeyId));
    }
  } catch (e) {
    await Promise.allSettled(pending);
    if (e instanceof PluginError) throw new PluginError(e.kind, `failed to fetch aliases: ${e.message}`);
    throw new PluginError("internal", `failed to fetch aliases: ${describeAwsError(e)}`);
  }
  const settled = await Promise.allSettled(pending);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) {
    const e = failed.reason as unknown;
    throw new PluginError(e instanceof PluginError ? e.kind : "internal", `failed to fetch aliases: ${(e as Error).message}`);
  }
  return settled.map((s) => (s as PromiseFulfilledResult<KmsKey>).value);
}

async function keyOfAlias(kms: KMSClient, alias: { AliasName: string; AliasArn: string }, spireKeyId: string): Promise<KmsKey> {
  let metadata;
  try {
    ({ KeyMetadata: metadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias.AliasArn }), { abortSignal: callSignal() }));
  } catch (e) {
    throw new PluginError("internal", `failed to describe key: ${describeAwsError(e)}`);
  }
  if (!metadata) throw new PluginError("internal", "malformed describe key response");
  if (!metadata.Arn) throw new PluginError("internal", `found SPIRE alias without key arn: ${JSON.stringify(alias.AliasArn)}`);
  if (!metadata.Enabled) {
    throw new PluginError("failed-precondition", `found disabled SPIRE key: ${JSON.stringify(metadata.Arn)}, alias: ${JSON.stringify(alias.AliasArn)}`);
  }
  const type = keyTypeOfSpec(metadata.KeySpec);
  if (type === undefined) throw new PluginError("internal", `unsupported key spec: ${metadata.KeySpec ?? "(none)"}`);

  let publicKey: Uint8Array | undefined;
  try {
    ({ PublicKey: publicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: alias.AliasArn }), { abortSignal: callSignal() }));
  } catch (e) {
    throw new PluginError("internal", `failed to get public key: ${describeAwsError(e)}`);
  }
  if (!publicKey || publicKey.length === 0) throw new PluginError("internal", "malformed get public key response");
  const pkixData = Buffer.from(publicKey);
  return { arn: metadata.Arn, aliasName: alias.AliasName, info: { id: spireKeyId, type, pkixData, fingerprint: fingerprintOf(pkixData) } };
}

const keySpecs: ReadonlyArray<readonly [KeySpec, KeyType]> = [
  ["ECC_NIST_P256", KeyType.EC_P256],
  ["ECC_NIST_P384", KeyType.EC_P384],
  ["RSA_2048", KeyType.RSA_2048],
  ["RSA_4096", KeyType.RSA_4096],
];

export function keyTypeOfSpec(spec: KeySpec | string | undefined): KeyType | undefined {
  return keySpecs.find(([s]) => s === spec)?.[1];
}

export function keySpecOfType(type: number): KeySpec | undefined {
  return keySpecs.find(([, t]) => t === type)?.[0];
}
