/**
 * The aws_kms KeyManager's configuration: SPIRE's keys and checks
 * (pkg/server/plugin/keymanager/awskms, buildConfig), each refusal naming
 * the key. Pure: reading the key identifier file and the policy file
 * happens at Configure (apply), never at Validate.
 */
import { bool, decodePluginConfig, map, object, str } from "@signet/plugin-sdk";

export const pluginName = "aws_kms";
export const configMessagePrefix = `keymanager ${pluginName}`;

/** How this server is told apart from others sharing the account: a file holding a generated UUID, or a fixed value. */
export type ServerIdentity = { readonly kind: "file"; readonly path: string } | { readonly kind: "value"; readonly serverId: string };

export interface AwsKmsConfig {
  readonly region: string;
  /** Static credentials; absent, the AWS SDK's default chain (environment, profile, web identity, instance role) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly identity: ServerIdentity;
  readonly keyPolicyFile?: string;
  /** User tags put on every key the plugin creates, in key order. */
  readonly keyTags: ReadonlyArray<readonly [string, string]>;
  readonly tagBasedKeyDiscovery: boolean;
}

const schema = object({
  access_key_id: str().optional(),
  secret_access_key: str().optional(),
  region: str().optional(),
  key_identifier_file: str().optional(),
  key_identifier_value: str().optional(),
  key_policy_file: str().optional(),
  key_tags: map(str()).optional(),
  enable_tag_based_key_discovery: bool().optional(),
});

/** Parses the text the host sends; throws with a message naming the offending key. */
export async function parseConfig(hclConfiguration: string): Promise<AwsKmsConfig> {
  let raw: Awaited<ReturnType<typeof decode>>;
  try {
    raw = await decode(hclConfiguration);
  } catch (e) {
    throw configError(`unable to decode configuration: ${(e as Error).message}`);
  }
  const region = raw.region ?? "";
  if (region === "") throw configError("configuration is missing a region");

  const keyIdentifierValue = raw.key_identifier_value ?? "";
  const keyIdentifierFile = raw.key_identifier_file ?? "";
  if (keyIdentifierValue !== "") {
    const problem = keyIdentifierProblem(keyIdentifierValue);
    if (problem) throw configError(`key_identifier_value: ${problem}`);
  }
  if (keyIdentifierFile === "" && keyIdentifierValue === "") {
    throw configError("configuration requires a key identifier file or a key identifier value (key_identifier_file or key_identifier_value)");
  }
  if (keyIdentifierFile !== "" && keyIdentifierValue !== "") {
    throw configError("configuration can't have a key identifier file and a key identifier value at the same time (key_identifier_file and key_identifier_value)");
  }

  const accessKeyId = raw.access_key_id ?? "";
  const secretAccessKey = raw.secret_access_key ?? "";
  if ((accessKeyId === "") !== (secretAccessKey === "")) {
    const [set, unset] = accessKeyId !== "" ? ["access_key_id", "secret_access_key"] : ["secret_access_key", "access_key_id"];
    throw configError(`${set} is set but ${unset} is not; set both, or neither to use the AWS SDK's default credentials`);
  }

  const keyTags = Object.entries(raw.key_tags ?? {});
  const tagProblem = keyTagsProblem(keyTags);
  if (tagProblem) throw configError(`invalid configuration for key tags (key_tags): ${tagProblem}`);

  if (raw.enable_tag_based_key_discovery) {
    throw configError(
      "enable_tag_based_key_discovery: tag-based key discovery (AWS Resource Groups Tagging API) is not supported by this plugin yet; remove the key to use alias-based discovery",
    );
  }

  return {
    region,
    ...(accessKeyId !== "" ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    identity: keyIdentifierValue !== "" ? { kind: "value", serverId: keyIdentifierValue } : { kind: "file", path: keyIdentifierFile },
    ...(raw.key_policy_file ? { keyPolicyFile: raw.key_policy_file } : {}),
    keyTags,
    tagBasedKeyDiscovery: raw.enable_tag_based_key_discovery ?? false,
  };
}

function decode(text: string) {
  return decodePluginConfig(schema, text);
}

function configError(message: string): Error {
  return new Error(`${configMessagePrefix}: ${message}`);
}

/**
 * Why a key identifier value cannot be part of an alias name, or undefined.
 * SPIRE's check means the characters aliases accept; its `A-z` range also
 * lets through `[ \ ] ^` and a backquote, which KMS then refuses at CreateAlias,
 * so this one says no to them at once.
 */
export function keyIdentifierProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9/_-]+$/.test(value)) {
    return "Key identifier must contain only alphanumeric characters, forward slashes (/), underscores (_), and dashes (-)";
  }
  if (value.startsWith("alias/aws/")) return "Key identifier must not start with alias/aws/";
  if (value.length > 256) return "Key identifier must not be longer than 256 characters";
  return undefined;
}

const tagKeyPattern = /^[\p{L}\p{N}\s+\-=._:/@]+$/u;
const tagValuePattern = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;

/** AWS's tag rules, and SPIRE's reserved `spire-` prefix, in SPIRE's words; undefined when all tags are fine. */
export function keyTagsProblem(tags: ReadonlyArray<readonly [string, string]>): string | undefined {
  if (tags.length > 50) return `too many tags: ${tags.length} tags exceed AWS limit of 50`;
  for (const [key, value] of tags) {
    if (key === "") return "tag key cannot be empty";
    if ([...key].length > 128) return `tag key ${JSON.stringify(key)} exceeds maximum length of 128 characters`;
    if (key.toLowerCase().startsWith("aws:")) return `tag key ${JSON.stringify(key)} uses reserved prefix 'aws:'`;
    if (key.toLowerCase().startsWith("spire-")) return `tag key ${JSON.stringify(key)} uses reserved prefix 'spire-'`;
    if (!tagKeyPattern.test(key)) return `tag key ${JSON.stringify(key)} contains invalid characters (allowed: letters, numbers, spaces, + - = . _ : / @)`;
    if ([...value].length > 256) return `tag value for key ${JSON.stringify(key)} exceeds maximum length of 256 characters`;
    if (!tagValuePattern.test(value)) return `tag value for key ${JSON.stringify(key)} contains invalid characters (allowed: letters, numbers, spaces, + - = . _ : / @)`;
  }
  return undefined;
}
