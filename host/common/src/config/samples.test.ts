// SPIRE-layout server.conf / agent.conf files (testdata/) load unchanged:
// every key decodes (unknown keys are errors here), every plugin block shape
// is read, and the JSON form of the server file gives the same result.
import { fileURLToPath } from "node:url";
import type { Infer } from "@signet/config";
import { bool, decode, duration, int, list, map, object, oneOf, raw, str } from "@signet/config";
import { describe, expect, it } from "vitest";
import { checkPluginCardinality } from "./cardinality.js";
import { loadConfigFile } from "./load.js";
import type { PluginDeclaration } from "./plugins.js";
import { parsePluginDeclarations } from "./plugins.js";

const testdata = (name: string) => fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));

const logLevel = oneOf(["DEBUG", "INFO", "WARN", "ERROR"], { ignoreCase: true }).default("INFO");

const healthChecks = object({
  listener_enabled: bool().default(false),
  bind_address: str().default("localhost"),
  bind_port: str().default("80"),
  live_path: str().default("/live"),
  ready_path: str().default("/ready"),
});

const telemetry = object(
  {
    Prometheus: object({ host: str().optional(), port: int() }).optional(),
    DogStatsd: list(object({ address: str() })).default([]),
    AllowedLabels: list(str()).default([]),
    BlockedLabels: list(str()).default([]),
  },
  { allowUnknownKeys: true }, // SPIRE does not check the telemetry block itself
);

const serverFile = object({
  server: object({
    bind_address: str().default("0.0.0.0"),
    bind_port: int({ min: 0, max: 65535 }).default(8081),
    socket_path: str().default("/tmp/spire-server/private/api.sock"),
    trust_domain: str(),
    data_dir: str(),
    log_level: logLevel,
    log_format: oneOf(["text", "json"]).default("text"),
    ca_key_type: str().default("ec-p256"),
    ca_ttl: duration().default(24 * 3600_000),
    default_x509_svid_ttl: duration().default(3600_000),
    default_jwt_svid_ttl: duration().default(300_000),
    admin_ids: list(str()).default([]),
    ca_subject: object({ country: list(str()).default([]), organization: list(str()).default([]), common_name: str().default("") }).optional(),
    ratelimit: object({ attestation: bool().default(true), signing: bool().default(true) }),
    federation: object(
      {
        bundle_endpoint: object({ address: str(), port: int(), refresh_hint: duration().optional() }).optional(),
        federates_with: map(object({ bundle_endpoint_url: str(), bundle_endpoint_profile: raw() })).default({}),
      },
      { allowUnknownKeys: true },
    ).optional(),
    experimental: object({ cache_reload_interval: duration().default(5000) }, { allowUnknownKeys: true }),
  }),
  plugins: raw(),
  health_checks: healthChecks,
  telemetry,
});

const agentFile = object({
  agent: object({
    data_dir: str().default("."),
    log_level: logLevel,
    server_address: str(),
    server_port: int({ min: 1, max: 65535 }),
    socket_path: str().default("/tmp/spire-agent/public/api.sock"),
    trust_bundle_path: str().optional(),
    trust_domain: str(),
    join_token: str().optional(),
    sds: object({
      default_svid_name: str().default("default"),
      default_bundle_name: str().default("ROOTCA"),
      default_all_bundles_name: str().default("ALL"),
    }),
  }),
  plugins: raw(),
  health_checks: healthChecks,
  telemetry,
});

async function loadServer(name: string) {
  const loaded = await loadConfigFile(testdata(name));
  const config = decode(serverFile, loaded.tree, { source: loaded.source });
  const plugins = parsePluginDeclarations(config.plugins, { side: "server", source: loaded.source, cwd: "/" });
  return { config, plugins };
}

/** Inline plugin data compared as values: HCL's tree orders keys, JSON keeps the file's order. */
function comparable(declarations: readonly PluginDeclaration[]) {
  return declarations.map((d) => ({ ...d, data: d.data.kind === "inline" ? { kind: "inline", value: JSON.parse(d.data.text) as unknown } : d.data }));
}

describe("SPIRE-layout configuration files", () => {
  it("server.conf decodes completely", async () => {
    const { config, plugins } = await loadServer("server.conf");
    const expected: Partial<Infer<typeof serverFile>["server"]> = {
      trust_domain: "example.org",
      bind_port: 8081,
      log_level: "DEBUG",
      log_format: "json",
      ca_ttl: 168 * 3600_000,
      ca_subject: { country: ["US"], organization: ["SPIFFE"], common_name: "" },
      ratelimit: { attestation: true, signing: false },
      experimental: { cache_reload_interval: 5000 },
    };
    expect(config.server).toMatchObject(expected);
    expect(config.server.federation).toEqual({
      bundle_endpoint: { address: "0.0.0.0", port: 8443, refresh_hint: 600_000 },
      federates_with: {
        "domain1.test": {
          bundle_endpoint_url: "https://1.2.3.4:8443",
          bundle_endpoint_profile: [{ https_spiffe: [{ endpoint_spiffe_id: "spiffe://domain1.test/spire/server" }] }],
        },
        "domain2.test": { bundle_endpoint_url: "https://domain2.test/bundle", bundle_endpoint_profile: [{ https_web: [{}] }] },
      },
    });
    expect(config.health_checks).toEqual({ listener_enabled: true, bind_address: "0.0.0.0", bind_port: "8080", live_path: "/live", ready_path: "/ready" });
    expect(config.telemetry).toEqual({ Prometheus: { port: 9988 }, DogStatsd: [{ address: "localhost:8125" }], AllowedLabels: [], BlockedLabels: [] });

    expect(plugins.plugins.map((d) => `${d.type}/${d.name}`)).toEqual([
      "DataStore/sql",
      "NodeAttestor/join_token",
      "NodeAttestor/x509pop",
      "KeyManager/disk",
      "UpstreamAuthority/my_ua",
      "CredentialComposer/uniqueid",
    ]);
    expect(plugins.disabled.map((d) => `${d.type}/${d.name}`)).toEqual(["Notifier/k8sbundle"]);
    expect(plugins.plugins.find((d) => d.type === "UpstreamAuthority")).toEqual({
      type: "UpstreamAuthority",
      name: "my_ua",
      source: { kind: "cmd", path: "/opt/spire/plugins/my-ua" },
      args: ["--verbose"],
      checksum: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      data: { kind: "file", path: "/etc/spire/my-ua.conf" },
      enabled: true,
    });
    expect(() => checkPluginCardinality(plugins.plugins, "server")).not.toThrow();
  });

  it("server.json gives the same configuration and plugins as server.conf", async () => {
    const hcl = await loadServer("server.conf");
    const json = await loadServer("server.json");
    const { plugins: _a, ...hclConfig } = hcl.config;
    const { plugins: _b, ...jsonConfig } = json.config;
    expect(jsonConfig).toEqual(hclConfig);
    expect(comparable(json.plugins.plugins)).toEqual(comparable(hcl.plugins.plugins));
    expect(comparable(json.plugins.disabled)).toEqual(comparable(hcl.plugins.disabled));
  });

  it("agent.conf decodes with -expandEnv, quoted server_port included", async () => {
    const loaded = await loadConfigFile(testdata("agent.conf"), { expandEnv: true, env: { TRUST_DOMAIN: "example.org", JOIN_TOKEN: "tok" } });
    const config = decode(agentFile, loaded.tree, { source: loaded.source });
    expect(config.agent).toEqual({
      data_dir: "/var/lib/spire/agent",
      log_level: "INFO",
      server_address: "spire-server.example.org",
      server_port: 8081,
      socket_path: "/tmp/spire-agent/public/api.sock",
      trust_bundle_path: "/opt/spire/conf/agent/bootstrap.crt",
      trust_domain: "example.org",
      join_token: "tok",
      sds: { default_svid_name: "default", default_bundle_name: "ROOTCA", default_all_bundles_name: "ALL" },
    });
    expect(config.health_checks.bind_port).toBe("8088");
    expect(config.telemetry.Prometheus).toEqual({ host: "127.0.0.1", port: 9989 });

    const { plugins, disabled } = parsePluginDeclarations(config.plugins, { side: "agent", source: loaded.source });
    expect(disabled).toEqual([]);
    expect(plugins.map((d) => `${d.type}/${d.name}`)).toEqual([
      "NodeAttestor/join_token",
      "KeyManager/disk",
      "WorkloadAttestor/unix",
      "WorkloadAttestor/k8s",
      "WorkloadAttestor/docker",
    ]);
    expect(plugins[3]!.source).toEqual({ kind: "package", packageName: "@example/spire-workloadattestor-k8s" });
    expect(plugins[4]!.data).toEqual({ kind: "inline", text: '{"docker_socket_path":"unix:///var/run/docker.sock"}' });
    expect(() => checkPluginCardinality(plugins, "agent")).not.toThrow();
  });

  it("agent.conf without -expandEnv keeps the $VAR text as it is", async () => {
    const loaded = await loadConfigFile(testdata("agent.conf"));
    expect(decode(agentFile, loaded.tree, { source: loaded.source }).agent.trust_domain).toBe("$TRUST_DOMAIN");
  });
});
