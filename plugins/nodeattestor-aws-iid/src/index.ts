/**
 * Entry point of the aws_iid NodeAttestor plugin program: one process serves both the server's
 * and the agent's NodeAttestor service (the host binds the one it needs and tolerates the other);
 * the configuration's keys say which half is configured (see config.ts).
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { Code, type HostConnection, PluginError, RpcError, configService, createClient, createLogger, nodeAttestor, serve, withStatus } from "@signet/plugin-sdk";
import { AgentStoreService } from "@signet/proto/spire/hostservice/server/agentstore/v1/agentstore";
import { agentAidAttestation } from "./agent.js";
import { AwsClients } from "./aws-clients.js";
import { type AwsIidConfig, parseConfig } from "./config.js";
import { OrganizationValidator } from "./organization.js";
import { type ServerState, serverAttest } from "./server.js";

const agentStoreName = "spire.hostservice.server.agentstore.v1.AgentStore";

// The SDK's notice that its releases from 2027 need Node 22 would reach stderr as an unstructured
// process warning, which is not the hclog JSON a host reads; it says nothing about this process.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

const log = createLogger();
let config: AwsIidConfig | undefined;
let serverState: (ServerState & { readonly clients: AwsClients }) | undefined;
let host: HostConnection | undefined;

/**
 * TOFU through the host's AgentStore: found means attested, NotFound means new. SPIRE requires
 * the host service (its plugin fails to load without it); a program serving both halves cannot
 * refuse Init for the agent's sake, so the server half refuses to attest instead.
 */
async function isAttested(agentId: string, signal: AbortSignal): Promise<boolean> {
  if (!host?.offered.has(agentStoreName)) throw PluginError.internal("required AgentStore host service not available");
  const client = createClient(AgentStoreService, await host.channel());
  try {
    await client.getAgentInfo({ agentId }, { signal });
    return true;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    if (e.code === Code.NOT_FOUND) return false;
    throw PluginError.withCode(e.code, `unable to get agent info: ${e.message}`);
  }
}

const attest = withStatus(serverAttest({ state: () => serverState, isAttested, log }));
const aidAttestation = withStatus(agentAidAttestation({ config: () => config?.agent }));

function apply(next: AwsIidConfig): void {
  const previous = serverState;
  config = next;
  serverState = next.server && {
    config: next.server,
    clients: new AwsClients(next.server),
    ...(next.server.organization ? { organization: new OrganizationValidator(next.server.organization, Date.now, (m, f) => log.warn(m, f)) } : {}),
  };
  previous?.clients.destroy();
  log.info("Configured", { halves: [next.server ? "server" : "", next.agent ? "agent" : ""].filter(Boolean).join(",") });
}

serve({
  type: "NodeAttestor",
  plugin: nodeAttestor.server({ attest }),
  services: [nodeAttestor.agent({ aidAttestation }), configService({ parse: (text, core) => parseConfig(text, core.trustDomain), apply })],
  onInit: (connection) => {
    host = connection;
  },
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
