import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { NodeAttestorService as AgentNodeAttestor } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { NodeAttestorService as ServerNodeAttestor } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";

export type ServerNodeAttestorImpl = Partial<AsyncService<typeof ServerNodeAttestor>>;
export type AgentNodeAttestorImpl = Partial<AsyncService<typeof AgentNodeAttestor>>;

/**
 * NodeAttestor: the agent half produces a payload and answers challenges; the
 * server half verifies it and names the agent. Both halves must share the
 * plugin name, which is the attestation data type on the wire.
 */
export const nodeAttestor = {
  server: (impl: ServerNodeAttestorImpl): ServiceRegistration => implement(ServerNodeAttestor, impl),
  agent: (impl: AgentNodeAttestorImpl): ServiceRegistration => implement(AgentNodeAttestor, impl),
};
