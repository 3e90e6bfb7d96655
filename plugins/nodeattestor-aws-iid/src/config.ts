/**
 * The aws_iid configuration, with SPIRE's keys, defaults and messages. One program serves both
 * halves and both accept an empty configuration (SPIRE's documented `plugin_data {}`), so:
 * the agent's key (`ec2_metadata_endpoint`) configures only the agent half, any server key only
 * the server half, and no key at all configures both with their defaults.
 *
 * Signet-only keys (SPIRE has no equivalent): `signet_rsa2048_certificates` and
 * `signet_rsa1024_certificates`, maps of region → PEM file, replace AWS's embedded certificates
 * (all of them, for both key types, as soon as either is set).
 */
import { readFile } from "node:fs/promises";
import { AgentPathTemplate, TemplateError, bool, decodePluginConfig, list, map, object, str } from "@signet/plugin-sdk";
import { TrustDomain } from "@signet/spiffe";
import { AwsCertificates, type KeyType, pemToDer } from "./aws-ca.js";
import { type OrganizationConfig, parseAccountListFile } from "./organization.js";

export const pluginName = "aws_iid";
export const defaultAgentPathTemplate = "/{{ .PluginName}}/{{ .AccountID }}/{{ .Region }}/{{ .InstanceID }}";
export const partitions = ["aws", "aws-cn", "aws-us-gov"] as const;

export interface ServerConfig {
  readonly trustDomain: TrustDomain;
  /** Static credentials (config, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); undefined: the SDK's default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Role name assumed in the instance's account: arn:<partition>:iam::<account>:role/<assumeRole>. */
  readonly assumeRole: string;
  readonly partition: string;
  readonly skipBlockDevice: boolean;
  readonly disableInstanceProfileSelectors: boolean;
  /** Accounts whose instances skip the block device check (account_ids_for_local_validation). */
  readonly localValidAccountIds: readonly string[];
  readonly pathTemplate: AgentPathTemplate;
  /** Whether the template reads .Tags, so the instance must be described before the agent ID exists. */
  readonly templateUsesTags: boolean;
  readonly organization?: OrganizationConfig;
  readonly certificates: AwsCertificates;
}

export interface AgentConfig {
  /** IMDS base URL; "" for the SDK default (AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254). */
  readonly ec2MetadataEndpoint: string;
}

/** Either half or both (an empty configuration). */
export interface AwsIidConfig {
  readonly server?: ServerConfig;
  readonly agent?: AgentConfig;
}

export class ConfigProblem extends Error {
  override readonly name = "ConfigProblem";
}

const organizationSchema = object({
  management_account_id: str().optional(),
  assume_org_role: str().optional(),
  management_account_region: str().optional(),
  org_account_map_ttl: str().optional(),
  account_list_file: str().optional(),
});

const schema = object({
  ec2_metadata_endpoint: str().optional(),
  access_key_id: str().optional(),
  secret_access_key: str().optional(),
  assume_role: str().optional(),
  partition: str().optional(),
  skip_block_device: bool().optional(),
  disable_instance_profile_selectors: bool().optional(),
  account_ids_for_local_validation: list(str()).optional(),
  agent_path_template: str().optional(),
  verify_organization: organizationSchema.optional(),
  validate_eks_cluster_membership: object({ eks_cluster_names: list(str()).optional() }).optional(),
  signet_rsa2048_certificates: map(str()).optional(),
  signet_rsa1024_certificates: map(str()).optional(),
});

type Raw = Awaited<ReturnType<typeof decode>>;
const decode = (text: string) => decodePluginConfig(schema, text);

export type Environment = Readonly<Record<string, string | undefined>>;

export async function parseConfig(text: string, trustDomainName: string, env: Environment = process.env): Promise<AwsIidConfig> {
  let raw: Raw;
  try {
    raw = await decode(text);
  } catch (e) {
    throw new ConfigProblem(`unable to decode configuration: ${(e as Error).message}`);
  }
  const serverKeys = Object.keys(raw).filter((k) => k !== "ec2_metadata_endpoint" && (raw as Record<string, unknown>)[k] !== undefined);
  if (raw.ec2_metadata_endpoint !== undefined && serverKeys.length > 0) {
    throw new ConfigProblem(
      `the agent setting ec2_metadata_endpoint and server settings (${serverKeys.join(", ")}) are both present; configure the agent's plugin with the first, the server's with the second`,
    );
  }
  const agent: AgentConfig = { ec2MetadataEndpoint: raw.ec2_metadata_endpoint ?? "" };
  if (raw.ec2_metadata_endpoint !== undefined) {
    checkEndpoint(agent.ec2MetadataEndpoint);
    return { agent };
  }
  const server = await serverConfig(raw, TrustDomain.parse(trustDomainName), env);
  return serverKeys.length > 0 ? { server } : { server, agent };
}

function checkEndpoint(endpoint: string): void {
  if (endpoint === "") return;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigProblem(`ec2_metadata_endpoint ${JSON.stringify(endpoint)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigProblem(`ec2_metadata_endpoint ${JSON.stringify(endpoint)} must be an http or https URL`);
}

async function serverConfig(raw: Raw, trustDomain: TrustDomain, env: Environment): Promise<ServerConfig> {
  const problems: string[] = [];
  const accessKeyId = raw.access_key_id || env["AWS_ACCESS_KEY_ID"] || "";
  const secretAccessKey = raw.secret_access_key || env["AWS_SECRET_ACCESS_KEY"] || "";
  if (accessKeyId !== "" && secretAccessKey === "") problems.push("configuration missing secret access key, but has access key id");
  if (accessKeyId === "" && secretAccessKey !== "") problems.push("configuration missing access key id, but has secret access key");

  const templateText = raw.agent_path_template ?? "";
  let pathTemplate = AgentPathTemplate.parse(defaultAgentPathTemplate);
  if (templateText.length > 0) {
    try {
      pathTemplate = AgentPathTemplate.parse(templateText);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      problems.push(`failed to parse agent svid template: ${JSON.stringify(templateText)}`);
    }
  }

  const partition = raw.partition || "aws";
  if (!(partitions as readonly string[]).includes(partition)) problems.push(`invalid partition ${JSON.stringify(partition)}, must be one of: [${partitions.join(" ")}]`);

  let organization: OrganizationConfig | undefined;
  if (raw.verify_organization !== undefined) {
    const result = await organizationConfig(raw.verify_organization);
    if (typeof result === "string") problems.push(result);
    else organization = result;
  }
  if (raw.validate_eks_cluster_membership !== undefined) {
    problems.push("validate_eks_cluster_membership is not supported by Signet's aws_iid (it needs the EKS and Auto Scaling APIs); remove the block");
  }

  let certificates = AwsCertificates.embedded();
  if (raw.signet_rsa2048_certificates !== undefined || raw.signet_rsa1024_certificates !== undefined) {
    const loaded = await loadCertificates({ rsa2048: raw.signet_rsa2048_certificates ?? {}, rsa1024: raw.signet_rsa1024_certificates ?? {} });
    if (typeof loaded === "string") problems.push(loaded);
    else certificates = loaded;
  }

  if (problems.length) throw new ConfigProblem(problems.join("; "));
  return {
    trustDomain,
    ...(accessKeyId !== "" ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    assumeRole: raw.assume_role ?? "",
    partition,
    skipBlockDevice: raw.skip_block_device ?? false,
    disableInstanceProfileSelectors: raw.disable_instance_profile_selectors ?? false,
    localValidAccountIds: raw.account_ids_for_local_validation ?? [],
    pathTemplate,
    templateUsesTags: templateText.includes(".Tags"),
    ...(organization ? { organization } : {}),
    certificates,
  };
}

type RawOrganization = NonNullable<Raw["verify_organization"]>;

const orgBlock = '"verify_organization"';
const defaultTtlMs = 3 * 60_000;

/** SPIRE's validateOrganizationConfig; a string is the problem. */
async function organizationConfig(raw: RawOrganization): Promise<OrganizationConfig | string> {
  const file = raw.account_list_file ?? "";
  const accountId = raw.management_account_id ?? "";
  const role = raw.assume_org_role ?? "";
  if (file !== "") {
    if (accountId !== "" || role !== "") {
      return `"account_list_file" is mutually exclusive with "management_account_id" and "assume_org_role" in the block: ${orgBlock}`;
    }
    try {
      await parseAccountListFile(file);
    } catch (e) {
      return `invalid "account_list_file" in the block: ${orgBlock}: ${(e as Error).message}`;
    }
  } else {
    if (accountId === "" || role === "") {
      return `please ensure that "management_account_id" & "assume_org_role" are present inside block or remove the block: ${orgBlock} for feature node attestation using account id verification`;
    }
    return `${orgBlock} through the AWS Organizations API (management_account_id, assume_org_role) is not supported by Signet's aws_iid; list the accounts in "account_list_file" instead`;
  }
  let ttlMs = defaultTtlMs;
  const ttlText = raw.org_account_map_ttl ?? "";
  if (ttlText !== "") {
    const parsed = parseGoDuration(ttlText);
    if (parsed === undefined) {
      return `please ensure that "org_account_map_ttl" if configured, it should be in duration and is suffixed with required 'm' for time duration in minute ex. '5m'. Otherwise, remove the: "org_account_map_ttl", in the block: ${orgBlock}. Default TTL will be: "3m"`;
    }
    if (parsed < 60_000) {
      return `please ensure that "org_account_map_ttl" if configured, it should be greater than or equal to "1m". Otherwise remove the: "org_account_map_ttl", in the block: ${orgBlock}. Default TTL will be: "3m"`;
    }
    ttlMs = parsed;
  }
  return { accountListFile: file, ttlMs };
}

/** Go's time.ParseDuration, in milliseconds; undefined if it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const units: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * units[part[2]!]!;
  return m[1] === "-" ? -total : total;
}

async function loadCertificates(files: Readonly<Record<KeyType, Readonly<Record<string, string>>>>): Promise<AwsCertificates | string> {
  const pems: Record<KeyType, Record<string, string>> = { rsa1024: {}, rsa2048: {} };
  for (const keyType of ["rsa2048", "rsa1024"] as const) {
    for (const [region, path] of Object.entries(files[keyType])) {
      const key = `signet_${keyType}_certificates`;
      let pem: string;
      try {
        pem = await readFile(path, "utf8");
        pemToDer(pem);
      } catch (e) {
        return `unable to load ${key} for region ${JSON.stringify(region)} from ${JSON.stringify(path)}: ${(e as Error).message}`;
      }
      pems[keyType][region] = pem;
    }
  }
  return AwsCertificates.of(pems);
}
