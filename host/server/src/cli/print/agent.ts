/** spire-server's text for attested agents (cmd/spire-server/cli/agent printAgents). */
import type { Agent } from "@signet/proto/spire/api/types/agent";
import { goLocalString } from "@signet/host-common";
import { idString } from "./entry.js";

export function formatAgent(a: Agent): string {
  let out = `SPIFFE ID         : ${idString(a.id)}\n`;
  out += `Attestation type  : ${a.attestationType}\n`;
  out += `Expiration time   : ${goLocalString(a.x509svidExpiresAt)}\n`;
  out += a.banned ? `Banned            : true\n` : `Serial number     : ${a.x509svidSerialNumber}\n`;
  out += `Can re-attest     : ${a.canReattest}\n`;
  if (a.agentVersion !== "") out += `Agent version     : ${a.agentVersion}\n`;
  return `${out}\n`;
}

export function formatAgentList(agents: readonly Agent[]): string {
  if (agents.length === 0) return "No attested agents found\n";
  return `Found ${agents.length} attested ${agents.length === 1 ? "agent" : "agents"}:\n\n${agents.map(formatAgent).join("")}`;
}

export function formatAgentShow(a: Agent): string {
  let out = `Found an attested agent given its SPIFFE ID\n\n${formatAgent(a)}`;
  for (const s of a.selectors) out += `Selectors         : ${s.type}:${s.value}\n`;
  return out;
}
