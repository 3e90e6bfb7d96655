/**
 * SPIRE's agent check (pkg/server/endpoints/middleware.go AgentAuthorizer):
 * a TCP caller is an agent when its SVID has not expired and its serial is
 * the attested node's current serial, or the pending new one (which is then
 * promoted to current).
 */
import { Code, isRpcError, RpcError } from "@signet/proto";
import type { AttestedNode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { PermissionDeniedDetails_Reason as Reason } from "@signet/proto/spire/api/types/status";
import type { DataStore } from "../datastore/datastore.js";
import { AgentDenied } from "./permission-denied.js";

/** The two DataStore calls the agent check needs. */
export interface AttestedNodes {
  /** The node, or undefined when the agent is not attested. */
  fetch(spiffeId: string): Promise<AttestedNode | undefined>;
  /** Makes the pending serial current (and clears the pending one). */
  promoteNewSerial(node: AttestedNode): Promise<void>;
}

/** AttestedNodes over the server's DataStore client. */
export function dataStoreAttestedNodes(ds: Pick<DataStore, "fetchAttestedNode" | "updateAttestedNode">): AttestedNodes {
  return {
    async fetch(spiffeId) {
      try {
        return (await ds.fetchAttestedNode({ spiffeId })).node;
      } catch (err) {
        if (isRpcError(err) && err.code === Code.NOT_FOUND) return undefined;
        throw err;
      }
    },
    async promoteNewSerial(node) {
      await ds.updateAttestedNode({
        node: {
          ...node,
          certSerialNumber: node.newCertSerialNumber,
          certNotAfter: node.newCertNotAfter,
          newCertSerialNumber: "",
          newCertNotAfter: 0n,
          selectors: [],
        },
        inputMask: {
          attestationDataType: false,
          certSerialNumber: true,
          certNotAfter: true,
          newCertSerialNumber: true,
          newCertNotAfter: true,
          canReattest: true,
          agentVersion: false,
        },
      });
    },
  };
}

export interface AgentSvidFacts {
  readonly id: string;
  /** Decimal serial. */
  readonly serial: string;
  readonly notAfter: Date;
}

/**
 * Resolves when the caller is an active agent; AgentDenied (with the reason
 * the stock agent acts on) when it is not; RpcError Internal when the
 * datastore fails.
 */
export async function authorizeAgent(nodes: AttestedNodes, svid: AgentSvidFacts, now: Date): Promise<void> {
  const { id, serial } = svid;
  if (now.getTime() > svid.notAfter.getTime()) throw new AgentDenied(Reason.AGENT_EXPIRED, `agent "${id}" SVID is expired`);
  let node: AttestedNode | undefined;
  try {
    node = await nodes.fetch(id);
  } catch (err) {
    throw new RpcError(Code.INTERNAL, `unable to look up agent information: ${messageOf(err)}`);
  }
  if (!node) throw new AgentDenied(Reason.AGENT_NOT_ATTESTED, `agent "${id}" is not attested`);
  if (node.certSerialNumber === "") throw new AgentDenied(Reason.AGENT_BANNED, `agent "${id}" is banned`);
  if (node.certSerialNumber === serial) return;
  if (node.newCertSerialNumber !== "" && node.newCertSerialNumber === serial) {
    try {
      await nodes.promoteNewSerial(node);
    } catch (err) {
      throw new RpcError(Code.INTERNAL, `unable to activate the new agent SVID: ${messageOf(err)}`);
    }
    return;
  }
  throw new AgentDenied(Reason.AGENT_NOT_ACTIVE, `agent "${id}" expected to have serial number "${node.certSerialNumber}"; has "${serial}"`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
