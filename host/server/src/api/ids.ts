import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";

/**
 * SPIRE's ID checks for API input (pkg/server/api/id.go), shared by every
 * API: a SPIFFEID message becomes a SpiffeId, then must sit where the RPC
 * expects it. Each function throws an IdError whose message is SPIRE's cause
 * text (the part after "invalid agent ID: "), so handlers only add their
 * short message.
 */
export const serverIdPath = "/spire/server";

/** An API ID that is malformed or not where the RPC expects it; the message is SPIRE's cause text. */
export class IdError extends Error {
  override readonly name = "IdError";
}

export function idFromProto(id: SPIFFEID | undefined): SpiffeId {
  if (!id) throw new IdError("request must specify SPIFFE ID");
  const td = parseTrustDomain(id.trustDomain);
  try {
    return SpiffeId.fromPath(td, id.path);
  } catch (e) {
    throw new IdError(reasonOf(e));
  }
}

/** go-spiffe's TrustDomainFromString, with go-spiffe's bare reason as the message. */
export function parseTrustDomain(name: string): TrustDomain {
  try {
    return TrustDomain.parse(name);
  } catch (e) {
    throw new IdError(reasonOf(e));
  }
}

export function protoFromId(id: SpiffeId): SPIFFEID {
  return { trustDomain: id.trustDomain.name, path: id.path };
}

/** An agent ID: in the trust domain, under /spire/agent/. */
export function agentIdFromProto(td: TrustDomain, proto: SPIFFEID | undefined): SpiffeId {
  const id = idFromProto(proto);
  if (!id.memberOf(td)) throw new IdError(`"${id}" is not a member of trust domain "${td.name}"`);
  if (id.path === "") throw new IdError(`"${id}" is not an agent in trust domain "${td.name}"; path is empty`);
  if (!isAgentPath(id.path)) {
    throw new IdError(`"${id}" is not an agent in trust domain "${td.name}"; path is not in the agent namespace`);
  }
  return id;
}

/** A workload ID: in the trust domain, with a path outside the reserved /spire namespace. */
export function workloadIdFromProto(td: TrustDomain, proto: SPIFFEID | undefined): SpiffeId {
  const id = idFromProto(proto);
  verifyWorkloadId(td, id);
  return id;
}

export function verifyWorkloadId(td: TrustDomain, id: SpiffeId): void {
  if (!id.memberOf(td)) throw new IdError(`"${id}" is not a member of trust domain "${td.name}"`);
  if (id.path === "") throw new IdError(`"${id}" is not a workload in trust domain "${td.name}"; path is empty`);
  if (isReservedPath(id.path)) {
    throw new IdError(`"${id}" is not a workload in trust domain "${td.name}"; path is in the reserved namespace`);
  }
}

/** Any non-root member of the trust domain (what an entry's SPIFFE ID must be to get an SVID). */
export function memberIdFromProto(td: TrustDomain, proto: SPIFFEID | undefined): SpiffeId {
  const id = idFromProto(proto);
  if (!id.memberOf(td)) throw new IdError(`"${id}" is not a member of trust domain "${td.name}"`);
  if (id.path === "") throw new IdError(`"${id}" is not a member of trust domain "${td.name}"; path is empty`);
  return id;
}

export function isAgentPath(path: string): boolean {
  return path.startsWith("/spire/agent/");
}

export function isAgentPathForNodeAttestor(path: string, attestor: string): boolean {
  return path.startsWith(`/spire/agent/${attestor}/`);
}

export function isReservedPath(path: string): boolean {
  return path === "/spire" || path.startsWith("/spire/");
}

/** go-spiffe's bare reason ("path cannot have a trailing slash"), as SPIRE prints it. */
export function reasonOf(e: unknown): string {
  if (e instanceof SpiffeIdError || e instanceof TrustDomainError) return e.reason;
  return e instanceof Error ? e.message : String(e);
}
