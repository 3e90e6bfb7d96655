import { describe, expect, it } from "vitest";
import { type AgentConfig, ConfigProblem, type ServerConfig, defaultTokenPath, parseConfig } from "./config.js";

const server = async (text: string) => (await parseConfig(text, "example.org")) as ServerConfig;

describe("k8s_psat configuration", () => {
  it("reads SPIRE's server configuration in HCL, with its defaults", async () => {
    const c = await server(`
      clusters = {
        "prod" = {
          service_account_allow_list = ["spire:spire-agent", "spire:other"]
          kube_config_file = "/etc/kube/prod"
          allowed_node_label_keys = ["zone"]
          allowed_pod_label_keys = ["app"]
          use_pod_uid_for_agent_id = true
        }
        "MyCluster" = { service_account_allow_list = ["production:spire-agent"] }
      }`);
    expect(c.side).toBe("server");
    expect(c.trustDomain.name).toBe("example.org");
    const prod = c.clusters.get("prod")!;
    expect([...prod.serviceAccounts]).toEqual(["spire:spire-agent", "spire:other"]);
    expect(prod.audience).toEqual(["spire-server"]);
    expect(prod.kubeConfigFile).toBe("/etc/kube/prod");
    expect([...prod.allowedNodeLabelKeys]).toEqual(["zone"]);
    expect([...prod.allowedPodLabelKeys]).toEqual(["app"]);
    expect(prod.usePodUidForAgentId).toBe(true);
    // Cluster names keep their case; unset settings take SPIRE's defaults.
    const mine = c.clusters.get("MyCluster")!;
    expect(mine.kubeConfigFile).toBe("");
    expect(mine.usePodUidForAgentId).toBe(false);
    expect(mine.allowedNodeLabelKeys.size).toBe(0);
  });

  it("tells an unset audience (spire-server) from an empty one (the API server's own)", async () => {
    const c = await server(JSON.stringify({ clusters: { a: { service_account_allow_list: ["x:y"], audience: [] }, b: { service_account_allow_list: ["x:y"], audience: ["one", "two"] } } }));
    expect(c.clusters.get("a")!.audience).toEqual([]);
    expect(c.clusters.get("b")!.audience).toEqual(["one", "two"]);
  });

  it("accepts a server with no clusters, which authorises nobody", async () => {
    expect((await server("")).clusters.size).toBe(0);
    expect((await server("{}")).clusters.size).toBe(0);
    expect((await server("clusters = {}")).clusters.size).toBe(0);
  });

  it("refuses clusters without allowed service accounts, naming every one", async () => {
    await expect(server(JSON.stringify({ clusters: { a: {}, b: { service_account_allow_list: [] } } }))).rejects.toThrow(
      'cluster "a" configuration must have at least one service account allowed; cluster "b" configuration must have at least one service account allowed',
    );
  });

  it("refuses unknown keys and wrong types, naming the key", async () => {
    await expect(server(JSON.stringify({ clusters: { a: { service_account_allow_list: ["x:y"], kubeconfig: "/k" } } }))).rejects.toThrow(/kubeconfig/);
    await expect(server(JSON.stringify({ cluster_list: {} }))).rejects.toThrow(/cluster_list/);
    await expect(server(JSON.stringify({ clusters: { a: { service_account_allow_list: ["x:y"], use_pod_uid_for_agent_id: "maybe" } } }))).rejects.toThrow(/use_pod_uid_for_agent_id/);
    await expect(server(`clusters = { "a" = { service_account_allow_list = [ } }`)).rejects.toBeInstanceOf(ConfigProblem);
  });

  it("reads the agent's configuration, with SPIRE's default token path", async () => {
    expect(await parseConfig('cluster = "prod"', "example.org")).toEqual({ side: "agent", cluster: "prod", tokenPath: defaultTokenPath });
    expect((await parseConfig(JSON.stringify({ cluster: "prod", token_path: "/t" }), "example.org")) as AgentConfig).toEqual({ side: "agent", cluster: "prod", tokenPath: "/t" });
    expect(defaultTokenPath).toBe("/var/run/secrets/tokens/spire-agent");
  });

  it("refuses an agent without its cluster, and a mix of both halves", async () => {
    await expect(parseConfig('token_path = "/t"', "example.org")).rejects.toThrow("missing required cluster block");
    await expect(parseConfig('cluster = ""', "example.org")).rejects.toThrow("missing required cluster block");
    await expect(parseConfig(JSON.stringify({ cluster: "a", clusters: { a: { service_account_allow_list: ["x:y"] } } }), "example.org")).rejects.toThrow(/both present/);
  });
});
