import type { AttestedNode, AttestedNodeFilter } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Agent, AgentMask } from "@signet/proto/spire/api/types/agent";
import type { SelectorMatch } from "@signet/proto/spire/api/types/selector";
import { SpiffeId } from "@signet/spiffe";
import { parseExpiresBefore } from "./expires-before.js";
import { protoFromId } from "../../ids.js";

/** The API's Agent for a stored node (SPIRE's ProtoFromAttestedNode); throws if the stored ID is not a SPIFFE ID. */
export function agentFromNode(node: AttestedNode): Agent {
  return {
    id: protoFromId(SpiffeId.parse(node.spiffeId)),
    attestationType: node.attestationDataType,
    x509svidSerialNumber: node.certSerialNumber,
    x509svidExpiresAt: node.certNotAfter,
    selectors: node.selectors.map((s) => ({ type: s.type, value: s.value })),
    banned: node.certSerialNumber === "",
    canReattest: node.canReattest,
    agentVersion: node.agentVersion,
  };
}

/** Clears what the mask does not ask for; an absent mask keeps everything, the ID is always kept. */
export function applyAgentMask(agent: Agent, mask: AgentMask | undefined): Agent {
  if (!mask) return agent;
  return {
    id: agent.id,
    attestationType: mask.attestationType ? agent.attestationType : "",
    x509svidSerialNumber: mask.x509svidSerialNumber ? agent.x509svidSerialNumber : "",
    x509svidExpiresAt: mask.x509svidExpiresAt ? agent.x509svidExpiresAt : 0n,
    selectors: mask.selectors ? agent.selectors : [],
    banned: mask.banned ? agent.banned : false,
    canReattest: mask.canReattest ? agent.canReattest : false,
    agentVersion: mask.agentVersion ? agent.agentVersion : "",
  };
}

/** The filter fields Count and List share. */
export interface AgentFilter {
  readonly byAttestationType: string;
  readonly bySelectorMatch: SelectorMatch | undefined;
  readonly byBanned: boolean | undefined;
  readonly byCanReattest: boolean | undefined;
  readonly byExpiresBefore: string;
}

/**
 * The datastore filter for an API filter. Throws an Error with SPIRE's cause
 * when a selector is unusable ("failed to parse selectors: <cause>").
 */
export function nodeFilterFrom(filter: AgentFilter | undefined): AttestedNodeFilter | undefined {
  if (!filter) return undefined;
  const out: AttestedNodeFilter = { bySelectorMatch: undefined };
  if (filter.byBanned !== undefined) out.byBanned = filter.byBanned;
  if (filter.byCanReattest !== undefined) out.byCanReattest = filter.byCanReattest;
  if (filter.byAttestationType !== "") out.byAttestationType = filter.byAttestationType;
  if (filter.byExpiresBefore !== "") {
    const before = parseExpiresBefore(filter.byExpiresBefore);
    if (before !== undefined) out.byExpiresBefore = before;
  }
  if (filter.bySelectorMatch) {
    for (const s of filter.bySelectorMatch.selectors) {
      if (s.type === "") throw new Error("missing selector type");
      if (s.type.includes(":")) throw new Error("selector type contains ':'");
      if (s.value === "") throw new Error("missing selector value");
    }
    out.bySelectorMatch = filter.bySelectorMatch;
  }
  return out;
}
