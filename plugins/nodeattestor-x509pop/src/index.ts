/**
 * Entry point of the x509pop NodeAttestor plugin program: one process serves both the server's
 * and the agent's NodeAttestor service (the host binds the one it needs and tolerates the
 * other); the configuration's keys say which half is configured (see config.ts).
 * This file is the edge: wire messages in, domain calls, status codes out.
 */
import { type HostConnection, PluginError, configService, createClient, createLogger, nodeAttestor, serve, toRpcError, withStatus } from "@signet/plugin-sdk";
import { IdentityProviderService } from "@signet/proto/spire/hostservice/server/identityprovider/v1/identityprovider";
import { agentAidAttestation, loadIdentity } from "./agent.js";
import { type AgentConfig, type ServerConfig, type X509PopConfig, parseConfig } from "./config.js";
import { serverAttest } from "./server.js";
import { fetchX509Svid } from "./workload-api.js";

const identityProviderName = "spire.hostservice.server.identityprovider.v1.IdentityProvider";

const log = createLogger();
let config: X509PopConfig | undefined;
let host: HostConnection | undefined;

const serverConfig = (): ServerConfig | undefined => (config?.side === "server" ? config : undefined);
const agentConfig = (): AgentConfig | undefined => (config?.side === "agent" ? config : undefined);

async function fetchTrustBundle(signal: AbortSignal): Promise<Buffer[]> {
  if (!host?.offered.has(identityProviderName)) throw PluginError.failedPrecondition("IdentityProvider host service is required");
  const client = createClient(IdentityProviderService, await host.channel());
  const res = await client.fetchX509Identity({}, { signal });
  return (res.bundle?.x509Authorities ?? []).map((a) => a.asn1);
}

const attest = withStatus(
  serverAttest({
    config: serverConfig,
    fetchTrustBundle,
    warn: (message, fields) => log.warn(message, fields),
  }),
);
const aidAttestation = withStatus(agentAidAttestation({ config: agentConfig, fetchSvid: fetchX509Svid }));

/**
 * The agent's key pair and chain must load before a configuration is accepted, as SPIRE's agent
 * checks at Configure; done while parsing, so Validate reports the same problem Configure would.
 */
async function parse(text: string, trustDomain: string): Promise<X509PopConfig> {
  const parsed = await parseConfig(text, trustDomain);
  if (parsed.side === "agent" && parsed.spiffeEndpointSocket === "") {
    try {
      await loadIdentity(parsed, { fetchSvid: fetchX509Svid }, AbortSignal.timeout(30_000));
    } catch (e) {
      throw toRpcError(e);
    }
  }
  return parsed;
}

async function apply(next: X509PopConfig): Promise<void> {
  config = next;
  log.info("Configured", { side: next.side, ...(next.side === "server" ? { mode: next.mode, trusted_cas: next.trustBundle.size } : {}) });
}

serve({
  type: "NodeAttestor",
  plugin: nodeAttestor.server({ attest }),
  services: [nodeAttestor.agent({ aidAttestation }), configService({ parse: (text, core) => parse(text, core.trustDomain), apply })],
  onInit: (connection) => {
    host = connection;
  },
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
