/**
 * What k8s_psat says about an attested agent: its selectors (type "k8s_psat") and its SPIFFE ID.
 * SPIRE's values, in SPIRE's order:
 *
 *   cluster:<name>  agent_ns:<namespace>  agent_sa:<service account>  agent_pod_name:<name>
 *   agent_pod_uid:<uid>  agent_node_ip:<pod's host IP>  agent_node_name:<name>  agent_node_uid:<uid>
 *   agent_node_label:<key>:<value>   for node labels whose key is allowed
 *   agent_pod_label:<key>:<value>    for pod labels whose key is allowed
 *
 * Agent ID: spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node uid>, or …/<cluster>/pod/<pod uid>
 * with use_pod_uid_for_agent_id.
 */
import { posix } from "node:path";
import { SpiffeId, type TrustDomain } from "@signet/spiffe";
import { type ClusterConfig, pluginName } from "./config.js";

export interface AttestedAgent {
  readonly cluster: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  readonly podUid: string;
  readonly pod: { readonly nodeName: string; readonly hostIP: string; readonly labels: Readonly<Record<string, string>> };
  readonly node: { readonly uid: string; readonly labels: Readonly<Record<string, string>> };
}

export function selectorValues(agent: AttestedAgent, cluster: ClusterConfig): string[] {
  const values = [
    value("cluster", agent.cluster),
    value("agent_ns", agent.namespace),
    value("agent_sa", agent.serviceAccount),
    value("agent_pod_name", agent.podName),
    value("agent_pod_uid", agent.podUid),
    value("agent_node_ip", agent.pod.hostIP),
    value("agent_node_name", agent.pod.nodeName),
    value("agent_node_uid", agent.node.uid),
  ];
  // SPIRE walks Go maps here (random order); sorted keys give the same set, always in one order.
  for (const key of Object.keys(agent.node.labels).sort()) {
    if (cluster.allowedNodeLabelKeys.has(key)) values.push(value("agent_node_label", key, agent.node.labels[key]!));
  }
  for (const key of Object.keys(agent.pod.labels).sort()) {
    if (cluster.allowedPodLabelKeys.has(key)) values.push(value("agent_pod_label", key, agent.pod.labels[key]!));
  }
  return values;
}

function value(kind: string, ...parts: string[]): string {
  return `${kind}:${parts.join(":")}`;
}

/** Throws SpiffeIdError when the cluster name or UID cannot be a path segment. */
export function agentId(trustDomain: TrustDomain, agent: AttestedAgent, cluster: ClusterConfig): SpiffeId {
  const suffix = cluster.usePodUidForAgentId ? `pod/${agent.podUid}` : agent.node.uid;
  // Go's path.Join, as SPIRE builds it: cleaned, so "." segments and doubled slashes vanish.
  return SpiffeId.fromPath(trustDomain, posix.join("/spire/agent", pluginName, agent.cluster, suffix));
}
