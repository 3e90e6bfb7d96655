/**
 * The agent's plugins, typed: the catalog knows only processes and services;
 * this is where each plugin type gets its facade (SPIRE's catalog for the
 * agent). join_token is not a plugin process: it is the attestor when a
 * token is configured.
 */
import type { Catalog } from "@signet/host-common";
import { AgentNodeAttestorFacade, WorkloadAttestorFacade } from "@signet/host-common";
import { NodeAttestorService } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";

export interface AgentPlugins {
  /** Undefined when the configured NodeAttestor is join_token. */
  readonly nodeAttestor?: AgentNodeAttestorFacade;
  readonly workloadAttestors: readonly WorkloadAttestorFacade[];
  /** The configured KeyManager's name: what it means for the agent SVID key is storage/svid-key-policy.ts. */
  readonly keyManagerName: string;
}

export function agentPlugins(catalog: Catalog): AgentPlugins {
  const node = catalog.ofType("NodeAttestor")[0];
  const keyManager = catalog.ofType("KeyManager")[0];
  return {
    ...(node ? { nodeAttestor: new AgentNodeAttestorFacade(node.client(NodeAttestorService), node.name) } : {}),
    workloadAttestors: catalog.ofType("WorkloadAttestor").map((p) => new WorkloadAttestorFacade(p.client(WorkloadAttestorService), p.name)),
    keyManagerName: keyManager?.name ?? "memory",
  };
}
