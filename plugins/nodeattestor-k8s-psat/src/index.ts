/**
 * Entry point of the k8s_psat NodeAttestor plugin program: one process serves both the server's
 * and the agent's NodeAttestor service (the host binds the one it needs and tolerates the
 * other); the configuration's keys say which half is configured (see config.ts).
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { configService, createLogger, nodeAttestor, serve, withStatus } from "@signet/plugin-sdk";
import { agentAidAttestation } from "./agent.js";
import type { KubernetesClient } from "./apiserver.js";
import { type AgentConfig, type ClusterConfig, ConfigProblem, type PsatConfig, type ServerConfig, parseConfig } from "./config.js";
import { serverAttest } from "./server.js";

const log = createLogger();
let config: PsatConfig | undefined;
const clients = new WeakMap<ClusterConfig, KubernetesClient>();

const serverConfig = (): ServerConfig | undefined => (config?.side === "server" ? config : undefined);
const agentConfig = (): AgentConfig | undefined => (config?.side === "agent" ? config : undefined);

/**
 * The Kubernetes client library is large and only the server half uses it: it is loaded on first
 * use, so the agent half (and every plugin start) does not pay for it.
 */
let apiServerModule: Promise<typeof import("./apiserver.js")> | undefined;
const apiServer = () => (apiServerModule ??= import("./apiserver.js"));

function clientOf(cluster: ClusterConfig): KubernetesClient {
  let client = clients.get(cluster);
  if (!client) {
    const real = apiServer().then((m) => m.kubernetesClient(cluster.kubeConfigFile));
    client = {
      validateToken: async (...args) => (await real).validateToken(...args),
      getPod: async (...args) => (await real).getPod(...args),
      getNode: async (...args) => (await real).getNode(...args),
    };
    clients.set(cluster, client);
  }
  return client;
}

const attest = withStatus(serverAttest({ config: serverConfig, client: clientOf }));
const aidAttestation = withStatus(agentAidAttestation({ config: agentConfig }));

/**
 * Each cluster's client configuration must load before a configuration is accepted (SPIRE finds
 * out only at the first attestation); done while parsing, so Validate reports what Configure would.
 */
async function parse(text: string, trustDomain: string): Promise<PsatConfig> {
  const parsed = await parseConfig(text, trustDomain);
  if (parsed.side === "server") {
    for (const cluster of parsed.clusters.values()) {
      try {
        await (await apiServer()).loadKubeConfig(cluster.kubeConfigFile);
      } catch (e) {
        const key = cluster.kubeConfigFile === "" ? "kube_config_file is empty and" : `kube_config_file ${JSON.stringify(cluster.kubeConfigFile)}:`;
        throw new ConfigProblem(`cluster ${JSON.stringify(cluster.name)}: ${key} unable to create client config: ${(e as Error).message}`);
      }
    }
  }
  return parsed;
}

async function apply(next: PsatConfig): Promise<void> {
  config = next;
  if (next.side === "server" && next.clusters.size === 0) log.info("No clusters configured, PSAT attestation is effectively disabled");
  log.info("Configured", next.side === "server" ? { side: "server", clusters: [...next.clusters.keys()] } : { side: "agent", cluster: next.cluster, token_path: next.tokenPath });
}

serve({
  type: "NodeAttestor",
  plugin: nodeAttestor.server({ attest }),
  services: [nodeAttestor.agent({ aidAttestation }), configService({ parse: (text, core) => parse(text, core.trustDomain), apply })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
