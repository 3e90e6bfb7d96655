/**
 * The k8s_psat configuration, with SPIRE's keys, defaults and messages. One program serves both
 * halves, so the keys say which half is being configured: `cluster` or `token_path` make it the
 * agent's; otherwise it is the server's (`clusters`, possibly empty: SPIRE's server accepts no
 * clusters and then authorises nobody).
 *
 *   server   clusters = { "<name>" = { service_account_allow_list = ["ns:sa"], audience = [...],
 *                                       kube_config_file = "...", allowed_node_label_keys = [...],
 *                                       allowed_pod_label_keys = [...], use_pod_uid_for_agent_id = false } }
 *   agent    cluster = "<name>", token_path = "/var/run/secrets/tokens/spire-agent"
 */
import { bool, decodePluginConfig, list, map, object, str } from "@signet/plugin-sdk";
import { TrustDomain } from "@signet/spiffe";

export const pluginName = "k8s_psat";
export const defaultAudience: readonly string[] = ["spire-server"];
export const defaultTokenPath = "/var/run/secrets/tokens/spire-agent";

export interface ClusterConfig {
  readonly name: string;
  /** "<namespace>:<service account>" names allowed to attest. */
  readonly serviceAccounts: ReadonlySet<string>;
  /** Audiences asked of the TokenReview; empty means the API server's own. */
  readonly audience: readonly string[];
  /** Empty: the in-cluster configuration (service account token and CA of the server's pod). */
  readonly kubeConfigFile: string;
  readonly allowedNodeLabelKeys: ReadonlySet<string>;
  readonly allowedPodLabelKeys: ReadonlySet<string>;
  readonly usePodUidForAgentId: boolean;
}

export interface ServerConfig {
  readonly side: "server";
  readonly trustDomain: TrustDomain;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
}

export interface AgentConfig {
  readonly side: "agent";
  readonly cluster: string;
  readonly tokenPath: string;
}

export type PsatConfig = ServerConfig | AgentConfig;

/** A configuration SPIRE would refuse; the message is SPIRE's (all problems, first one first). */
export class ConfigProblem extends Error {
  override readonly name = "ConfigProblem";
}

const clusterSchema = object({
  service_account_allow_list: list(str()).optional(),
  audience: list(str()).optional(),
  kube_config_file: str().optional(),
  allowed_node_label_keys: list(str()).optional(),
  allowed_pod_label_keys: list(str()).optional(),
  use_pod_uid_for_agent_id: bool().optional(),
});

const schema = object({
  clusters: map(clusterSchema).optional(),
  cluster: str().optional(),
  token_path: str().optional(),
});

export async function parseConfig(hclConfiguration: string, trustDomainName: string): Promise<PsatConfig> {
  let raw;
  try {
    raw = await decodePluginConfig(schema, hclConfiguration);
  } catch (e) {
    throw new ConfigProblem(`unable to decode configuration: ${(e as Error).message}`);
  }
  const agentSet = (["cluster", "token_path"] as const).filter((k) => raw[k] !== undefined);
  if (agentSet.length && raw.clusters !== undefined) {
    throw new ConfigProblem(
      `agent settings (${agentSet.join(", ")}) and server settings (clusters) are both present; configure the agent's plugin with the first, the server's with the second`,
    );
  }
  if (agentSet.length) {
    if (!raw.cluster) throw new ConfigProblem("missing required cluster block");
    return { side: "agent", cluster: raw.cluster, tokenPath: raw.token_path || defaultTokenPath };
  }

  const problems: string[] = [];
  const clusters = new Map<string, ClusterConfig>();
  for (const [name, c] of Object.entries(raw.clusters ?? {})) {
    const allowList = c.service_account_allow_list ?? [];
    if (allowList.length === 0) problems.push(`cluster ${JSON.stringify(name)} configuration must have at least one service account allowed`);
    clusters.set(name, {
      name,
      serviceAccounts: new Set(allowList),
      audience: c.audience ?? defaultAudience,
      kubeConfigFile: c.kube_config_file ?? "",
      allowedNodeLabelKeys: new Set(c.allowed_node_label_keys ?? []),
      allowedPodLabelKeys: new Set(c.allowed_pod_label_keys ?? []),
      usePodUidForAgentId: c.use_pod_uid_for_agent_id ?? false,
    });
  }
  if (problems.length) throw new ConfigProblem(problems.join("; "));
  return { side: "server", trustDomain: TrustDomain.parse(trustDomainName), clusters };
}
