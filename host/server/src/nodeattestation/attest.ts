/**
 * Node attestation, apart from the gRPC stream (SPIRE's AttestAgent after the
 * first message): prove the node with a join token or a NodeAttestor plugin,
 * then issue the agent SVID and record the attested node.
 */
import type { Logger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import type { AttestedNode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { SpiffeId, type TrustDomain } from "@signet/spiffe";
import type { IssuedX509Svid, ServerCA } from "../ca/authority.js";
import type { DataStore } from "../datastore/datastore.js";
import { isAgentPathForNodeAttestor, serverIdPath } from "../api/ids.js";
import { agentCsrPublicKey } from "./agent-csr.js";
import { AttestationError, causeOf } from "./errors.js";
import { attestJoinToken, joinTokenType } from "./join-token.js";
import { dedupeSelectors } from "./selectors.js";

/** What the agent sent in its first message. */
export interface AttestationParams {
  readonly type: string;
  readonly payload: Buffer;
  readonly csr: Buffer;
}

/** A server NodeAttestor as the host-common facade presents it. */
export interface NodeAttestor {
  attest(
    payload: Buffer,
    answer: (challenge: Buffer) => Promise<Buffer>,
    options?: { signal?: AbortSignal },
  ): Promise<{ readonly agentId: string; readonly selectors: readonly Selector[]; readonly canReattest: boolean }>;
}

export interface NodeAttestationDeps {
  readonly trustDomain: TrustDomain;
  readonly dataStore: DataStore;
  readonly ca: Pick<ServerCA, "signAgentX509Svid">;
  /** The server NodeAttestor plugin of that name, if one is configured. */
  readonly nodeAttestor: (name: string) => NodeAttestor | undefined;
  readonly now: () => Date;
  readonly log: Logger;
  /** experimental.agent_spiffe_id_as_selector: add selector spiffe_id:<agent ID>. */
  readonly agentIdAsSelector?: boolean;
}

export interface AttestedAgent {
  readonly agentId: SpiffeId;
  readonly svid: IssuedX509Svid;
  readonly canReattest: boolean;
}

/** SPIRE's validateAttestAgentParams, as the cause after "malformed param: ". */
export function paramsProblem(params: {
  data?: { type: string; payload: Buffer } | undefined;
  params?: { csr: Buffer } | undefined;
} | undefined): string | undefined {
  if (!params) return "missing params";
  if (!params.data) return "missing attestation data";
  if (!params.params) return "missing X509-SVID parameters";
  if (params.params.csr.length === 0) return "missing CSR";
  if (params.data.type === "") return "missing attestation data type";
  if (params.data.payload.length === 0) return "missing attestation data payload";
  return undefined;
}

/**
 * Runs the whole sequence. `answer` sends a challenge to the agent and
 * resolves to its challenge_response. Throws AttestationError.
 */
export async function attestAgent(
  params: AttestationParams,
  answer: (challenge: Buffer) => Promise<Buffer>,
  deps: NodeAttestationDeps,
  signal?: AbortSignal,
): Promise<AttestedAgent> {
  const log = deps.log.with({ node_attestor_type: params.type });
  // The CSR is read up front so that a bad one never burns a join token;
  // its error is still reported where SPIRE reports it (after attestation).
  const csrKey = readCsr(params.csr);

  const result =
    params.type === joinTokenType
      ? await attestJoinToken(params.payload, deps, csrKey instanceof Error)
      : await attestWithPlugin(params, answer, deps, signal);

  const selectors = [...result.selectors];
  if (deps.agentIdAsSelector && result.agentId !== "") selectors.push({ type: "spiffe_id", value: result.agentId });

  let agentId: SpiffeId;
  try {
    agentId = SpiffeId.parse(result.agentId);
  } catch (e) {
    throw new AttestationError("internal", `invalid agent ID: ${causeOf(e)}`);
  }
  const agentLog = log.with({ agent_id: agentId.toString() });
  if (agentId.path === serverIdPath) throw new AttestationError("internal", "agent ID cannot collide with the server ID");
  const namespaceProblem = !agentId.memberOf(deps.trustDomain)
    ? `"${agentId}" is not a member of trust domain "${deps.trustDomain.name}"`
    : !isAgentPathForNodeAttestor(agentId.path, params.type)
      ? `"${agentId}" is not in the agent namespace for attestor "${params.type}"`
      : undefined;
  if (namespaceProblem) {
    agentLog.warn(
      "The node attestor produced an invalid agent ID; future releases will enforce that agent IDs are within the reserved agent namesepace for the node attestor",
      { error: namespaceProblem },
    );
  }

  const existing = await fetchNode(deps.dataStore, agentId.toString());
  if (existing && existing.certSerialNumber === "") {
    throw new AttestationError("banned", "failed to attest: agent is banned");
  }

  if (csrKey instanceof Error) throw new AttestationError("invalid", `failed to parse CSR: ${csrKey.message}`);
  let svid: IssuedX509Svid;
  try {
    svid = await deps.ca.signAgentX509Svid({ publicKey: csrKey, spiffeId: agentId });
  } catch (e) {
    throw new AttestationError("internal", `failed to sign X509 SVID: ${causeOf(e)}`);
  }

  try {
    await deps.dataStore.setNodeSelectors({ spiffeId: agentId.toString(), selectors: dedupeSelectors(selectors) });
  } catch (e) {
    throw new AttestationError("internal", `failed to update selectors: ${causeOf(e)}`);
  }
  await recordNode(deps.dataStore, existing, {
    spiffeId: agentId.toString(),
    attestationDataType: params.type,
    certSerialNumber: svid.serial,
    certNotAfter: BigInt(svid.expiresAt),
    newCertSerialNumber: "",
    newCertNotAfter: 0n,
    selectors: [],
    canReattest: result.canReattest,
    agentVersion: "",
  });
  agentLog.info("Agent attestation request completed");
  return { agentId, svid, canReattest: result.canReattest };
}

interface AttestorResult {
  readonly agentId: string;
  readonly selectors: readonly Selector[];
  readonly canReattest: boolean;
}

async function attestWithPlugin(
  params: AttestationParams,
  answer: (challenge: Buffer) => Promise<Buffer>,
  deps: NodeAttestationDeps,
  signal: AbortSignal | undefined,
): Promise<AttestorResult> {
  const attestor = deps.nodeAttestor(params.type);
  if (!attestor) {
    throw new AttestationError("no-attestor", `error getting node attestor: could not find node attestor type "${params.type}"`);
  }
  try {
    return await attestor.attest(params.payload, answer, signal ? { signal } : {});
  } catch (e) {
    // SPIRE keeps the plugin's (or the relay's) code and message as they are.
    if (e instanceof RpcError) throw new AttestationError("plugin", e.message, e.code);
    if (e instanceof AttestationError) throw e;
    throw new AttestationError("plugin", causeOf(e), Code.UNKNOWN);
  }
}

function readCsr(csr: Buffer): Buffer | Error {
  try {
    return agentCsrPublicKey(csr);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

async function fetchNode(ds: DataStore, spiffeId: string): Promise<AttestedNode | undefined> {
  try {
    return (await ds.fetchAttestedNode({ spiffeId })).node;
  } catch (e) {
    if (e instanceof RpcError && e.code === Code.NOT_FOUND) return undefined;
    throw new AttestationError("internal", `failed to fetch agent: ${causeOf(e)}`);
  }
}

/** Creates the node, or points an existing one at the new SVID (SPIRE's UpdateAttestedNodeCertificateMask). */
async function recordNode(ds: DataStore, existing: AttestedNode | undefined, node: AttestedNode): Promise<void> {
  if (!existing) {
    try {
      await ds.createAttestedNode({ node });
    } catch (e) {
      throw new AttestationError("internal", `failed to create attested agent: ${causeOf(e)}`);
    }
    return;
  }
  try {
    await ds.updateAttestedNode({
      node,
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
  } catch (e) {
    throw new AttestationError("internal", `failed to update attested agent: ${causeOf(e)}`);
  }
}
