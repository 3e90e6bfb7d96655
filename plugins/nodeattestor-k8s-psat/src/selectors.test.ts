import { describe, expect, it } from "vitest";
import { TrustDomain } from "@signet/spiffe";
import type { ClusterConfig } from "./config.js";
import { type AttestedAgent, agentId, selectorValues } from "./selectors.js";

const td = TrustDomain.parse("example.org");
const cluster = (c: Partial<ClusterConfig> = {}): ClusterConfig => ({
  name: "prod",
  serviceAccounts: new Set(["spire:spire-agent"]),
  audience: ["spire-server"],
  kubeConfigFile: "",
  allowedNodeLabelKeys: new Set(),
  allowedPodLabelKeys: new Set(),
  usePodUidForAgentId: false,
  ...c,
});
const agent: AttestedAgent = {
  cluster: "prod",
  namespace: "spire",
  serviceAccount: "spire-agent",
  podName: "agent-1",
  podUid: "pod-uid-1",
  pod: { nodeName: "node-1", hostIP: "10.0.0.4", labels: { app: "spire", tier: "infra", "a:b": "c:d" } },
  node: { uid: "node-uid-1", labels: { zone: "z1", rack: "r7", secret: "s" } },
};

describe("k8s_psat selectors and agent ID", () => {
  it("lists SPIRE's selectors in SPIRE's order, labels only for allowed keys, sorted", () => {
    expect(selectorValues(agent, cluster({ allowedNodeLabelKeys: new Set(["zone", "rack", "missing"]), allowedPodLabelKeys: new Set(["app", "a:b"]) }))).toEqual([
      "cluster:prod",
      "agent_ns:spire",
      "agent_sa:spire-agent",
      "agent_pod_name:agent-1",
      "agent_pod_uid:pod-uid-1",
      "agent_node_ip:10.0.0.4",
      "agent_node_name:node-1",
      "agent_node_uid:node-uid-1",
      "agent_node_label:rack:r7",
      "agent_node_label:zone:z1",
      "agent_pod_label:a:b:c:d",
      "agent_pod_label:app:spire",
    ]);
    expect(selectorValues(agent, cluster()).filter((v) => v.includes("label"))).toEqual([]);
  });

  it("names the agent after its node, or after its pod", () => {
    expect(agentId(td, agent, cluster()).toString()).toBe("spiffe://example.org/spire/agent/k8s_psat/prod/node-uid-1");
    expect(agentId(td, agent, cluster({ usePodUidForAgentId: true })).toString()).toBe("spiffe://example.org/spire/agent/k8s_psat/prod/pod/pod-uid-1");
  });

  it("joins the path as Go's path.Join does, and refuses what cannot be a SPIFFE ID", () => {
    expect(agentId(td, { ...agent, cluster: "eu/west" }, cluster()).toString()).toBe("spiffe://example.org/spire/agent/k8s_psat/eu/west/node-uid-1");
    expect(agentId(td, { ...agent, cluster: "a/./b" }, cluster()).toString()).toBe("spiffe://example.org/spire/agent/k8s_psat/a/b/node-uid-1");
    expect(() => agentId(td, { ...agent, cluster: "Prod Cluster" }, cluster())).toThrow(/invalid SPIFFE ID/);
  });
});
