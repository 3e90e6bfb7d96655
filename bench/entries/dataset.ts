import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";

export interface DatasetSizes {
  readonly entries: number;
  readonly agents: number;
  /** Entries the "big" agent (agent 0) gets: half parented by it, half through cluster c0's node alias. */
  readonly bigAgentEntries: number;
}

export const trustDomain = "example.org";
export const agentPath = (i: number): string => `/spire/agent/x509pop/agent-${i}`;

export interface Agent {
  readonly spiffeId: string;
  readonly selectors: Selector[];
}

/**
 * The bench's registrations: 100 node aliases (one per "cluster" node
 * selector); the big agent's entries; then workload entries spread over the
 * other agents, every third one nested under another workload. Workloads
 * carry three Kubernetes-style selectors: namespace (50 values), container
 * image (20 values) and a service account unique to the workload. Agents
 * have two node selectors (cluster, subject).
 */
export function dataset(sizes: DatasetSizes): { entries: Entry[]; agents: Agent[] } {
  const agents: Agent[] = [];
  for (let i = 0; i < sizes.agents; i++) {
    agents.push({
      spiffeId: `spiffe://${trustDomain}${agentPath(i)}`,
      selectors: [
        { type: "x509pop", value: `cluster:c${i % 100}` },
        { type: "x509pop", value: `subject:cn:agent-${i}` },
      ],
    });
  }
  const entries: Entry[] = [];
  for (let c = 0; c < 100; c++) entries.push(entry(`/cluster/c${c}`, "/spire/server", [{ type: "x509pop", value: `cluster:c${c}` }]));
  const half = Math.floor(sizes.bigAgentEntries / 2);
  for (let j = 0; j < half; j++) entries.push(workload(`/big/direct/${j}`, agentPath(0), entries.length));
  for (let j = 0; j < sizes.bigAgentEntries - half; j++) entries.push(workload(`/big/alias/${j}`, "/cluster/c0", entries.length));
  for (let k = 0; entries.length < sizes.entries; k++) {
    const parent = k % 3 === 2 ? `/w/${k - 1}` : agentPath(1 + (k % (sizes.agents - 1)));
    entries.push(workload(`/w/${k}`, parent, entries.length));
  }
  return { entries, agents };
}

function workload(path: string, parent: string, n: number): Entry {
  return entry(path, parent, [
    { type: "k8s", value: `ns:ns-${n % 50}` },
    { type: "k8s", value: `container-image:registry.example.org/team/app:v${n % 20}` },
    { type: "k8s", value: `sa:workload-${n}` },
  ]);
}

export function entry(path: string, parent: string, selectors: Selector[]): Entry {
  return {
    id: "",
    spiffeId: { trustDomain, path },
    parentId: { trustDomain, path: parent },
    selectors,
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
  };
}
