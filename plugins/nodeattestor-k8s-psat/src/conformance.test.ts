/**
 * The bundled plugin program against the conformance kit, each half in its own process over the
 * real protocol: the launch contract with good and bad configurations, then the NodeAttestor
 * suite with a real projected token checked by a fake Kubernetes API server over HTTPS
 * (test/fakes/kubernetes), and the tokens an attacker could bring refused.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PluginUnderTest, lifecycleSuite, nodeAttestorSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { FakeKubernetes } from "../../../test/fakes/kubernetes/api-server.js";
import { encodeAttestationData } from "./payload.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "nodeattestor-k8s-psat", "NodeAttestor");
const vitest = { describe, it, beforeAll, afterAll };

const dir = mkdtempSync(join(tmpdir(), "k8s-psat-conformance-"));
const cluster = await FakeKubernetes.start();
// Stands for the moment between a TokenReview and a pod's replacement: this API server does not
// check bound pods itself, so the plugin's own pod UID check is what refuses a stale token.
const racy = await FakeKubernetes.start({ checkBoundObjects: false });
afterAll(async () => {
  await Promise.all([cluster.close(), racy.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const node = cluster.addNode({ name: "node-1", labels: { "topology.kubernetes.io/zone": "eu-west-1a", "kubernetes.io/hostname": "node-1" } });
const pod = cluster.addPod({ namespace: "spire", name: "spire-agent-x7k2p", nodeName: "node-1", serviceAccount: "spire-agent", hostIP: "10.0.3.7", labels: { app: "spire-agent", "pod-template-hash": "5d84p" } });
cluster.addPod({ namespace: "default", name: "web-1", nodeName: "node-1", serviceAccount: "web" });
racy.addNode({ name: "node-9" });
racy.addPod({ namespace: "spire", name: "spire-agent-r", nodeName: "node-9", serviceAccount: "spire-agent" });

const kubeconfig = cluster.writeKubeconfig(join(dir, "prod.kubeconfig"));
const racyKubeconfig = racy.writeKubeconfig(join(dir, "racy.kubeconfig"));
const tokenPath = join(dir, "token");
const agentToken = cluster.issueToken({ namespace: "spire", serviceAccount: "spire-agent", podName: pod.name });
writeFileSync(tokenPath, agentToken);

const agentSa = { namespace: "spire", serviceAccount: "spire-agent", podName: pod.name };
const payload = (clusterName: string, token: string) => encodeAttestationData({ cluster: clusterName, token });
const hourAgo = Math.floor(Date.now() / 1000) - 7200;

const base = { type: "NodeAttestor", file, sides: ["server", "agent"] } as const;
const server: PluginUnderTest = {
  ...base,
  config: JSON.stringify({
    clusters: {
      prod: {
        service_account_allow_list: ["spire:spire-agent"],
        kube_config_file: kubeconfig,
        allowed_node_label_keys: ["topology.kubernetes.io/zone"],
        allowed_pod_label_keys: ["app"],
      },
      racy: { service_account_allow_list: ["spire:spire-agent"], kube_config_file: racyKubeconfig },
    },
  }),
  badConfigs: [
    { name: "a cluster without allowed service accounts", text: `clusters = { "prod" = { kube_config_file = "${kubeconfig}" } }`, message: 'cluster "prod" configuration must have at least one service account allowed' },
    { name: "an unknown cluster key", text: JSON.stringify({ clusters: { prod: { service_account_allow_list: ["a:b"], kube_config_file: kubeconfig, audiences: ["x"] } } }), message: /audiences/ },
    { name: "a kubeconfig that does not exist", text: JSON.stringify({ clusters: { prod: { service_account_allow_list: ["a:b"], kube_config_file: join(dir, "none") } } }), message: `cluster "prod": kube_config_file "${join(dir, "none")}": unable to create client config: open ${join(dir, "none")}: no such file or directory` },
    { name: "a kubeconfig with no cluster", text: JSON.stringify({ clusters: { prod: { service_account_allow_list: ["a:b"], kube_config_file: tokenPath } } }), message: /^cluster "prod": kube_config_file .*: unable to create client config: / },
    { name: "an agent configuration without its cluster", text: `token_path = "${tokenPath}"`, message: "missing required cluster block" },
    { name: "server and agent settings at once", text: JSON.stringify({ cluster: "prod", clusters: {} }), message: /both present/ },
  ],
};
const agent: PluginUnderTest = { ...base, config: `cluster = "prod"\ntoken_path = "${tokenPath}"` };

registerWithVitest(lifecycleSuite(server), vitest);
registerWithVitest(
  nodeAttestorSuite(server, agent, {
    name: "k8s_psat",
    challenges: false,
    badPayloads: [
      { name: "a token for another audience", payload: payload("prod", cluster.issueToken({ ...agentSa, audiences: ["vault"] })) },
      { name: "a cluster that is not configured", payload: payload("staging", cluster.issueToken(agentSa)) },
      { name: "a service account that is not allowed", payload: payload("prod", cluster.issueToken({ namespace: "default", serviceAccount: "web", podName: "web-1" })) },
      { name: "an expired token", payload: payload("prod", cluster.issueToken({ ...agentSa, issuedAt: hourAgo, expirationSeconds: 600 })) },
      { name: "a token signed with another key", payload: payload("prod", cluster.issueToken({ ...agentSa, signingKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey })) },
      { name: "a token of another issuer", payload: payload("prod", cluster.issueToken({ ...agentSa, issuer: "https://oidc.example.com" })) },
      { name: "a token bound to a pod since replaced (API server checks it)", payload: payload("prod", cluster.issueToken({ ...agentSa, podUid: "00000000-0000-4000-8000-000000000000" })) },
      { name: "a token bound to a pod since replaced (plugin checks it)", payload: payload("racy", racy.issueToken({ namespace: "spire", serviceAccount: "spire-agent", podName: "spire-agent-r", podUid: "00000000-0000-4000-8000-000000000000" })) },
      { name: "a token of one cluster sent for another", payload: payload("racy", cluster.issueToken(agentSa)) },
      { name: "garbage JSON", payload: Buffer.from('{"cluster": "prod", "token": ') },
      { name: "a token that is a number", payload: Buffer.from('{"cluster":"prod","token":42}') },
      { name: "an empty token", payload: payload("prod", "") },
      { name: "a 1 MiB token", payload: payload("prod", "x".repeat(1 << 20)) },
    ],
    expectAttributes: (a) => {
      expect(a.spiffeId).toBe(`spiffe://example.org/spire/agent/k8s_psat/prod/${node.uid}`);
      expect(a.selectorValues).toEqual([
        "cluster:prod",
        "agent_ns:spire",
        "agent_sa:spire-agent",
        `agent_pod_name:${pod.name}`,
        `agent_pod_uid:${pod.uid}`,
        "agent_node_ip:10.0.3.7",
        "agent_node_name:node-1",
        `agent_node_uid:${node.uid}`,
        "agent_node_label:topology.kubernetes.io/zone:eu-west-1a",
        "agent_pod_label:app:spire-agent",
      ]);
      expect(a.canReattest).toBe(true);
      // The token went to the configured cluster's API server, and to no other.
      expect(cluster.requests.some((r) => r.path === "/apis/authentication.k8s.io/v1/tokenreviews")).toBe(true);
      expect(cluster.requests.some((r) => r.body.includes(agentToken))).toBe(true);
      expect(racy.requests.some((r) => r.body.includes(agentToken))).toBe(false);
    },
  }),
  vitest,
);

