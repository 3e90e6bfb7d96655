/**
 * A real signet-server (SQLite DataStore, memory KeyManager as plugin
 * processes) and helpers to stand agents up against it: join tokens,
 * entries and the server bundle through the server's local API. Used by the
 * agent end-to-end tests, the go-spiffe interop test and benchmarks.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Metadata, credentials } from "@grpc/grpc-js";
import { createLogger, type LevelledLogger } from "@signet/host-common";
import { createClient } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeWorkloadAPIService, type X509SVIDResponse } from "@signet/proto/workload/workload";
import { loadAgentConfig, type RunningAgent, startAgent } from "@signet/agent";
import { loadServerConfig, type RunningServer, startServer } from "@signet/server";

export interface TestServer {
  readonly dir: string;
  readonly server: RunningServer;
  readonly trustDomain: string;
  joinToken(): Promise<string>;
  /** Creates an entry; `parentId` defaults to the agent ID of `token`. */
  createEntry(e: { spiffeId: string; parentId: string; selectors: string[]; x509SvidTtl?: number; jwtSvidTtl?: number; hint?: string }): Promise<string>;
  bundlePem(): Promise<string>;
  /** Agent/DeleteAgent (evict) and Agent/BanAgent for an agent ID. */
  evictAgent(agentId: string): Promise<void>;
  banAgent(agentId: string): Promise<void>;
  stop(): Promise<void>;
}

function spiffeIdOf(s: string): { trustDomain: string; path: string } {
  const u = new URL(s);
  return { trustDomain: u.host, path: u.pathname === "/" ? "" : u.pathname };
}

export async function startTestServer(options: { x509SvidTtl?: string; agentTtl?: string; log?: LevelledLogger; extraPlugins?: string } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "signet-pair-"));
  const socketPath = join(dir, "server.sock");
  const configPath = join(dir, "server.conf");
  writeFileSync(
    configPath,
    `server {
    bind_address = "127.0.0.1"
    bind_port = "0"
    socket_path = "${socketPath}"
    trust_domain = "example.org"
    data_dir = "${dir}"
    default_x509_svid_ttl = "${options.x509SvidTtl ?? "1h"}"
${options.agentTtl ? `    agent_ttl = "${options.agentTtl}"\n` : ""}}
plugins {
    DataStore "sql" { plugin_data { database_type = "sqlite3", connection_string = "${join(dir, "datastore.sqlite3")}" } }
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
${options.extraPlugins ?? ""}
}
`,
  );
  const server = await startServer(await loadServerConfig(configPath), { log: options.log ?? createLogger({ level: "warn" }) });
  const channel = new Channel(`unix://${socketPath}`, credentials.createInsecure(), {});
  const agents = createClient(AgentService, channel);
  const entries = createClient(EntryService, channel);
  const bundles = createClient(BundleService, channel);
  return {
    dir,
    server,
    trustDomain: "example.org",
    async joinToken() {
      const res = await agents.createJoinToken({ ttl: 600, token: "", agentId: undefined });
      return res.value;
    },
    async createEntry(e) {
      const id = spiffeIdOf;
      const res = await entries.batchCreateEntry({
        entries: [
          Entry.fromPartial({
            spiffeId: id(e.spiffeId),
            parentId: id(e.parentId),
            selectors: e.selectors.map((s) => ({ type: s.slice(0, s.indexOf(":")), value: s.slice(s.indexOf(":") + 1) })),
            x509SvidTtl: e.x509SvidTtl ?? 0,
            jwtSvidTtl: e.jwtSvidTtl ?? 0,
            hint: e.hint ?? "",
          }),
        ],
        outputMask: undefined,
      });
      const r = res.results[0]!;
      if (r.status?.code !== 0) throw new Error(`entry create failed: ${r.status?.message}`);
      return r.entry!.id;
    },
    async bundlePem() {
      const b = await bundles.getBundle({ outputMask: undefined });
      return b.x509Authorities.map((a) => new X509Certificate(a.asn1).toString()).join("");
    },
    async evictAgent(agentId) {
      await agents.deleteAgent({ id: spiffeIdOf(agentId) });
    },
    async banAgent(agentId) {
      await agents.banAgent({ id: spiffeIdOf(agentId) });
    },
    async stop() {
      channel.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestAgentOptions {
  /** Join token; leave out to attest with `nodeAttestor`. */
  readonly token?: string;
  /** The agent's NodeAttestor block (default `NodeAttestor "join_token" {}`). */
  readonly nodeAttestor?: string;
  readonly extraAgentConfig?: string;
  /** Serve the admin API on <dir>/admin/admin.sock. */
  readonly adminSocket?: boolean;
  /** insecure_bootstrap instead of trust_bundle_path. */
  readonly insecureBootstrap?: boolean;
  readonly log?: LevelledLogger;
}

/** agent.conf text for an agent of `server` (memory KeyManager, unix WorkloadAttestor). */
export async function agentConfigText(server: TestServer, dir: string, token: string | undefined, extra = "", nodeAttestor = 'NodeAttestor "join_token" {}', insecureBootstrap = false): Promise<string> {
  const bundlePath = join(dir, "bundle.pem");
  writeFileSync(bundlePath, await server.bundlePem());
  const trust = insecureBootstrap ? "insecure_bootstrap = true" : `trust_bundle_path = "${bundlePath}"`;
  return `agent {
    trust_domain = "${server.trustDomain}"
    server_address = "127.0.0.1"
    server_port = ${server.server.tcpPort}
    socket_path = "${join(dir, "public", "api.sock")}"
    data_dir = "${join(dir, "data")}"
    ${trust}
${token !== undefined ? `    join_token = "${token}"\n` : ""}${extra}
}
plugins {
    KeyManager "memory" {}
    ${nodeAttestor}
    WorkloadAttestor "unix" {}
}
`;
}

export async function startTestAgent(server: TestServer, options: TestAgentOptions): Promise<{ agent: RunningAgent; socketPath: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "signet-agent-"));
  const path = join(dir, "agent.conf");
  const admin = options.adminSocket ? `    admin_socket_path = "${join(dir, "admin", "admin.sock")}"\n` : "";
  writeFileSync(path, await agentConfigText(server, dir, options.token, admin + (options.extraAgentConfig ?? ""), options.nodeAttestor, options.insecureBootstrap));
  const config = await loadAgentConfig(path);
  const agent = await startAgent(config, { log: options.log ?? createLogger({ level: "warn" }) });
  return { agent, socketPath: config.socketPath, dir };
}

/**
 * The first FetchX509SVID message a workload gets from an agent's Workload API socket (the
 * security header set, as every SPIFFE client sends it), on a connection of its own.
 */
export async function firstX509SvidResponse(socketPath: string): Promise<X509SVIDResponse> {
  const channel = new Channel(`unix://${socketPath}`, credentials.createInsecure(), {});
  try {
    const md = new Metadata();
    md.set("workload.spiffe.io", "true");
    const first = await createClient(SpiffeWorkloadAPIService, channel).fetchX509Svid({}, { metadata: md })[Symbol.asyncIterator]().next();
    if (first.done) throw new Error("FetchX509SVID ended without a message");
    return first.value;
  } finally {
    channel.close();
  }
}
