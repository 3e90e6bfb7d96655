/**
 * spire.hostservice.server.agentstore.v1.AgentStore: lets server NodeAttestor
 * plugins ask whether an agent ID is already attested, which is how TOFU
 * attestors (aws_iid, gcp_iit, azure_msi) refuse a second attestation of the
 * same node. NotFound means "not attested"; a banned agent is still attested.
 */
import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { AgentStoreService } from "@signet/proto/spire/hostservice/server/agentstore/v1/agentstore";
import type { DataStore } from "../datastore/datastore.js";

export function agentStoreService(dataStore: () => DataStore | undefined): ServiceRegistration {
  return implement(AgentStoreService, {
    async getAgentInfo(req) {
      const ds = dataStore();
      if (!ds) throw new RpcError(Code.FAILED_PRECONDITION, "AgentStore host service has not been initialized");
      if (req.agentId === "") throw new RpcError(Code.INVALID_ARGUMENT, "agent_id is required");
      let found: boolean;
      try {
        found = (await ds.fetchAttestedNode({ spiffeId: req.agentId })).node !== undefined;
      } catch (e) {
        if (e instanceof RpcError && e.code === Code.NOT_FOUND) found = false;
        else throw e;
      }
      if (!found) throw new RpcError(Code.NOT_FOUND, "no such agent");
      return { info: { agentId: req.agentId } };
    },
  });
}
