// signet-agent attesting with the k8s_psat NodeAttestor on both sides: the agent sends its
// projected service account token, signet-server's plugin has a (fake, HTTPS, token-checking)
// Kubernetes API server review it and look up the pod and node, and the agent gets the agent ID
// named after its node; workloads under it then get their X509-SVIDs, directly and through a
// node alias entry that matches the agent's k8s_psat selectors.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent } from "@signet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeKubernetes } from "../fakes/kubernetes/api-server.js";
import { firstX509SvidResponse, startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

const dir = mkdtempSync(join(tmpdir(), "agent-k8s-psat-"));
let kube: FakeKubernetes;
let server: TestServer;
let agent: RunningAgent;
let agentDir = "";
let socketPath = "";
let nodeUid = "";

beforeAll(async () => {
  kube = await FakeKubernetes.start();
  nodeUid = kube.addNode({ name: "worker-1", labels: { "topology.kubernetes.io/zone": "zone-a" } }).uid;
  kube.addPod({ namespace: "spire", name: "spire-agent-q8z4m", nodeName: "worker-1", serviceAccount: "spire-agent", hostIP: "192.168.7.21" });
  const kubeconfig = kube.writeKubeconfig(join(dir, "kubeconfig"));
  const tokenPath = join(dir, "spire-agent");
  writeFileSync(tokenPath, kube.issueToken({ namespace: "spire", serviceAccount: "spire-agent", podName: "spire-agent-q8z4m" }));

  server = await startTestServer({
    extraPlugins: `    NodeAttestor "k8s_psat" {
        plugin_data {
            clusters = {
                "e2e-cluster" = {
                    service_account_allow_list = ["spire:spire-agent"]
                    kube_config_file = "${kubeconfig}"
                    allowed_node_label_keys = ["topology.kubernetes.io/zone"]
                }
            }
        }
    }`,
  });
  ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, {
    nodeAttestor: `NodeAttestor "k8s_psat" { plugin_data { cluster = "e2e-cluster", token_path = "${tokenPath}" } }`,
    extraAgentConfig: 'experimental { sync_interval = "1s" }',
  }));
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  await kube?.close();
  rmSync(dir, { recursive: true, force: true });
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

const idOf = (der: Buffer) => new X509Certificate(der).subjectAltName;

describe("agent with the k8s_psat NodeAttestor", () => {
  it("attests with its projected token, is named after its node and is re-attestable", () => {
    expect(idOf(agent.svid.current().chain[0]!)).toBe(`URI:spiffe://example.org/spire/agent/k8s_psat/e2e-cluster/${nodeUid}`);
    expect(agent.svid.current().reattestable).toBe(true);
    // The token was reviewed by the cluster's API server, which was also asked for the pod and node.
    expect(kube.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /apis/authentication.k8s.io/v1/tokenreviews",
        "GET /api/v1/namespaces/spire/pods/spire-agent-q8z4m",
        "GET /api/v1/nodes/worker-1",
      ]),
    );
  });

  it("serves workloads parented by its agent ID and by a node alias of its k8s_psat selectors", async () => {
    const agentId = `spiffe://example.org/spire/agent/k8s_psat/e2e-cluster/${nodeUid}`;
    const uid = `unix:uid:${process.getuid!()}`;
    await server.createEntry({ spiffeId: "spiffe://example.org/k8s-workload", parentId: agentId, selectors: [uid] });
    await server.createEntry({
      spiffeId: "spiffe://example.org/k8s-nodes/zone-a",
      parentId: "spiffe://example.org/spire/server",
      selectors: ["k8s_psat:cluster:e2e-cluster", "k8s_psat:agent_node_label:topology.kubernetes.io/zone:zone-a"],
    });
    await server.createEntry({ spiffeId: "spiffe://example.org/k8s-zone-workload", parentId: "spiffe://example.org/k8s-nodes/zone-a", selectors: [uid] });
    // The agent learns of the entries at its next sync (1 s here); until then the workload has no identity.
    const synced = Date.now() + 15_000;
    while (agent.cache.svidCount < 2 && Date.now() < synced) await new Promise((r) => setTimeout(r, 100));
    const first = await firstX509SvidResponse(socketPath);
    expect(first.svids.map((s) => s.spiffeId).sort()).toEqual(["spiffe://example.org/k8s-workload", "spiffe://example.org/k8s-zone-workload"]);
  }, 40_000);
});
