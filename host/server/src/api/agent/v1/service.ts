/**
 * spire.api.server.agent.v1.Agent: the gRPC edge. Validates requests, calls
 * the datastore and node attestation, and turns every failure into SPIRE's
 * status code and wording.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "@signet/host-common";
import { type AsyncService, type CallContext, Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import type { AttestedNode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import {
  AgentService,
  type AttestAgentRequest,
  type AttestAgentResponse,
} from "@signet/proto/spire/api/server/agent/v1/agent";
import { Entry } from "@signet/proto/spire/api/types/entry";
import { PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";
import type { SpiffeId, TrustDomain } from "@signet/spiffe";
import type { ServerCA } from "../../../ca/authority.js";
import type { DataStore } from "../../../datastore/datastore.js";
import { agentCsrPublicKey } from "../../../nodeattestation/agent-csr.js";
import { type NodeAttestor, attestAgent, paramsProblem } from "../../../nodeattestation/attest.js";
import { AttestationError } from "../../../nodeattestation/errors.js";
import { joinTokenAgentId } from "../../../nodeattestation/join-token.js";
import { callerOf } from "../../rpccontext/caller.js";
import { apiError } from "../../status.js";
import { agentFromNode, applyAgentMask, nodeFilterFrom } from "./agent-view.js";
import { agentIdFromProto, protoFromId, workloadIdFromProto } from "../../ids.js";
import { permissionDenied } from "@signet/host-common";

export interface AgentServiceDeps {
  readonly trustDomain: TrustDomain;
  readonly dataStore: DataStore;
  readonly ca: Pick<ServerCA, "signAgentX509Svid">;
  /** Server NodeAttestor plugins by name (ServerPlugins.nodeAttestors.get). */
  readonly nodeAttestor: (name: string) => NodeAttestor | undefined;
  readonly log: Logger;
  readonly now?: () => Date;
  /** experimental.agent_spiffe_id_as_selector */
  readonly agentIdAsSelector?: boolean;
  /** Join token values when the request names none (random UUIDv4 by default). */
  readonly newToken?: () => string;
}

const maxAgentVersionLength = 255;

/** The Agent service registration for a grpc-js server. */
export function agentService(deps: AgentServiceDeps): ServiceRegistration {
  return implement(AgentService, agentHandlers(deps));
}

/** The handlers themselves, for endpoint middleware that wraps them. */
export function agentHandlers(deps: AgentServiceDeps): AsyncService<typeof AgentService> {
  const { dataStore: ds, trustDomain: td, log } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    async countAgents(req) {
      const filter = parseFilter(req.filter);
      try {
        const { count } = await ds.countAttestedNodes({ filter });
        return { count };
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to count agents", e);
      }
    },

    async listAgents(req) {
      const filter = parseFilter(req.filter);
      const fetchSelectors = !req.outputMask || req.outputMask.selectors;
      const paged = req.pageSize > 0;
      const nodes: AttestedNode[] = [];
      let nextPageToken = "";
      try {
        const pages = ds.listAttestedNodes({
          filter,
          fetchSelectors,
          page: paged ? { pageSize: req.pageSize, pageToken: req.pageToken, maxPages: 1 } : { pageSize: 0, pageToken: "", maxPages: 0 },
        });
        for await (const page of pages) {
          nodes.push(...page.nodes);
          nextPageToken = page.nextPageToken;
        }
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to list agents", e);
      }
      const agents = [];
      for (const node of nodes) {
        try {
          agents.push(applyAgentMask(agentFromNode(node), req.outputMask));
        } catch (e) {
          log.warn("Failed to parse agent", { spiffe_id: node.spiffeId, error: e });
        }
      }
      return { agents, nextPageToken: paged ? nextPageToken : "" };
    },

    async getAgent(req) {
      const id = parseAgentId(td, req.id);
      const node = await fetchNode(ds, id);
      if (!node) throw apiError(Code.NOT_FOUND, "agent not found");
      try {
        return applyAgentMask(agentFromNode(node), req.outputMask);
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to convert attested node to agent", e);
      }
    },

    async deleteAgent(req) {
      const id = parseAgentId(td, req.id);
      try {
        await ds.deleteAttestedNode({ spiffeId: id.toString() });
      } catch (e) {
        if (isNotFound(e)) throw apiError(Code.NOT_FOUND, "agent not found");
        throw apiError(Code.INTERNAL, "failed to remove agent", e);
      }
      log.info("Agent deleted", { spiffe_id: id.toString() });
      return {};
    },

    async banAgent(req) {
      const id = parseAgentId(td, req.id);
      try {
        await ds.updateAttestedNode({
          node: emptyNode(id.toString()),
          inputMask: { ...noFields, certSerialNumber: true, newCertSerialNumber: true },
        });
      } catch (e) {
        if (isNotFound(e)) throw apiError(Code.NOT_FOUND, "agent not found");
        throw apiError(Code.INTERNAL, "failed to ban agent", e);
      }
      log.info("Agent banned", { spiffe_id: id.toString() });
      return {};
    },

    attestAgent(requests, ctx) {
      return attestStream(requests, ctx, deps, now);
    },

    async renewAgent(req, ctx) {
      const agentId = callerAgentId(ctx);
      const node = await fetchNode(ds, agentId);
      if (!node) throw apiError(Code.NOT_FOUND, "agent not found");
      // An agent that can re-attest must do so instead of renewing.
      if (node.canReattest) {
        throw permissionDenied("agent must reattest instead of renew", PermissionDeniedDetails_Reason.AGENT_MUST_REATTEST);
      }
      log.info("Renewing agent SVID", { caller_id: agentId.toString() });
      if (!req.params) throw apiError(Code.INVALID_ARGUMENT, "params cannot be nil");
      if (req.params.csr.length === 0) throw apiError(Code.INVALID_ARGUMENT, "missing CSR");
      let publicKey: Buffer;
      try {
        publicKey = agentCsrPublicKey(req.params.csr);
      } catch (e) {
        throw apiError(Code.INVALID_ARGUMENT, "failed to parse CSR", e);
      }
      let svid;
      try {
        svid = await deps.ca.signAgentX509Svid({ publicKey, spiffeId: agentId });
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to sign X509 SVID", e);
      }
      await updateNode(ds, {
        node: { ...emptyNode(agentId.toString()), newCertSerialNumber: svid.serial, newCertNotAfter: BigInt(svid.expiresAt) },
        inputMask: { ...noFields, newCertSerialNumber: true, newCertNotAfter: true },
      });
      return { svid: { id: protoFromId(agentId), certChain: [...svid.certChain], expiresAt: BigInt(svid.expiresAt), hint: "" } };
    },

    async createJoinToken(req) {
      if (req.ttl < 1) throw apiError(Code.INVALID_ARGUMENT, "ttl is required, you must provide one");
      let agentId: SpiffeId | undefined;
      if (req.agentId) {
        try {
          agentId = workloadIdFromProto(td, req.agentId);
        } catch (e) {
          throw apiError(Code.INVALID_ARGUMENT, "invalid agent ID", e);
        }
      }
      const value = req.token !== "" ? req.token : (deps.newToken ?? randomUUID)();
      const expiresAt = BigInt(Math.floor(now().getTime() / 1000) + req.ttl);
      try {
        await ds.createJoinToken({ token: { value, expiresAt } });
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to create token", e);
      }
      if (agentId) {
        try {
          await createJoinTokenEntry(ds, td, value, agentId);
        } catch (e) {
          throw apiError(Code.INTERNAL, "failed to create join token registration entry", e);
        }
      }
      return { value, expiresAt };
    },

    async postStatus(req, ctx) {
      const agentId = callerAgentId(ctx);
      const version = req.agentVersion;
      if (version !== "") {
        if (Buffer.byteLength(version) > maxAgentVersionLength) {
          throw apiError(Code.INVALID_ARGUMENT, "agent version is too long (max 255 characters)");
        }
        await updateNode(ds, {
          node: { ...emptyNode(agentId.toString()), agentVersion: version },
          inputMask: { ...noFields, agentVersion: true },
        });
        log.debug("Agent status updated", { spiffe_id: agentId.toString(), agent_version: version });
      }
      return {};
    },
  };
}

/**
 * AttestAgent's stream: read and check the first message, run attestation
 * (relaying plugin challenges as they come), then send exactly one result.
 */
async function* attestStream(
  requests: AsyncIterable<AttestAgentRequest>,
  ctx: CallContext,
  deps: AgentServiceDeps,
  now: () => Date,
): AsyncGenerator<AttestAgentResponse> {
  const incoming = requests[Symbol.asyncIterator]();
  let first: IteratorResult<AttestAgentRequest>;
  try {
    first = await incoming.next();
  } catch (e) {
    throw apiError(Code.INVALID_ARGUMENT, "failed to receive request from stream", e);
  }
  if (first.done) throw apiError(Code.INVALID_ARGUMENT, "failed to receive request from stream", "EOF");
  const step = first.value.step;
  const params = step?.$case === "params" ? step.value : undefined;
  const problem = paramsProblem(params);
  if (problem || !params?.data || !params.params) throw apiError(Code.INVALID_ARGUMENT, "malformed param", problem);

  const outbox = new Outbox<AttestAgentResponse>();
  const answer = async (challenge: Buffer): Promise<Buffer> => {
    outbox.push({ step: { $case: "challenge", value: challenge } });
    let next: IteratorResult<AttestAgentRequest>;
    try {
      next = await incoming.next();
    } catch (e) {
      throw apiError(Code.INTERNAL, "failed to receive challenge from agent", e);
    }
    if (next.done) throw apiError(Code.INTERNAL, "failed to receive challenge from agent", "EOF");
    const reply = next.value.step;
    return reply?.$case === "challengeResponse" ? reply.value : Buffer.alloc(0);
  };

  const attestation = attestAgent(
    { type: params.data.type, payload: params.data.payload, csr: params.params.csr },
    answer,
    {
      trustDomain: deps.trustDomain,
      dataStore: deps.dataStore,
      ca: deps.ca,
      nodeAttestor: deps.nodeAttestor,
      now,
      log: deps.log.with({ address: ctx.peer }),
      agentIdAsSelector: deps.agentIdAsSelector ?? false,
    },
    ctx.signal,
  );
  attestation.then(
    (agent) =>
      outbox.finish({
        step: {
          $case: "result",
          value: {
            svid: {
              id: protoFromId(agent.agentId),
              certChain: [...agent.svid.certChain],
              expiresAt: BigInt(agent.svid.expiresAt),
              hint: "",
            },
            reattestable: agent.canReattest,
          },
        },
      }),
    (e) => outbox.fail(attestationStatus(e)),
  );
  yield* outbox.drain();
}

/** The one place attestation failures become gRPC statuses. */
function attestationStatus(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (!(e instanceof AttestationError)) return apiError(Code.INTERNAL, "failed to attest agent", e);
  switch (e.kind) {
    case "invalid":
      return new RpcError(Code.INVALID_ARGUMENT, e.message);
    case "no-attestor":
      return new RpcError(Code.FAILED_PRECONDITION, e.message);
    case "banned":
      return new RpcError(Code.PERMISSION_DENIED, e.message);
    case "plugin":
      return new RpcError(e.code ?? Code.UNKNOWN, e.message);
    case "internal":
      return new RpcError(Code.INTERNAL, e.message);
  }
}

/** Messages produced while attestation runs, handed to the stream in order; ends with a result or an error. */
class Outbox<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.queue.push(item);
    this.notify();
  }

  finish(last: T): void {
    this.queue.push(last);
    this.ended = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.error = error;
    this.ended = true;
    this.notify();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift() as T;
      if (this.ended) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function parseFilter(filter: Parameters<typeof nodeFilterFrom>[0]) {
  try {
    return nodeFilterFrom(filter);
  } catch (e) {
    throw apiError(Code.INVALID_ARGUMENT, "failed to parse selectors", e);
  }
}

function parseAgentId(td: TrustDomain, id: Parameters<typeof agentIdFromProto>[1]): SpiffeId {
  try {
    return agentIdFromProto(td, id);
  } catch (e) {
    throw apiError(Code.INVALID_ARGUMENT, "invalid agent ID", e);
  }
}

function callerAgentId(ctx: CallContext): SpiffeId {
  const id = callerOf(ctx).agentId;
  if (!id) throw apiError(Code.INTERNAL, "caller ID missing from request context");
  return id;
}

async function fetchNode(ds: DataStore, id: SpiffeId): Promise<AttestedNode | undefined> {
  try {
    return (await ds.fetchAttestedNode({ spiffeId: id.toString() })).node;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw apiError(Code.INTERNAL, "failed to fetch agent", e);
  }
}

async function updateNode(ds: DataStore, req: Parameters<DataStore["updateAttestedNode"]>[0]): Promise<void> {
  try {
    await ds.updateAttestedNode(req);
  } catch (e) {
    if (isNotFound(e)) throw apiError(Code.NOT_FOUND, "agent not found");
    throw apiError(Code.INTERNAL, "failed to update agent", e);
  }
}

/** The entry CreateJoinToken adds when given an agent_id: that ID for whoever attests with the token. */
async function createJoinTokenEntry(ds: DataStore, td: TrustDomain, token: string, spiffeId: SpiffeId): Promise<void> {
  const parent = joinTokenAgentIdOrCause(td, token);
  const entry = Entry.fromPartial({
    spiffeId: protoFromId(spiffeId),
    parentId: protoFromId(parent),
    selectors: [{ type: "spiffe_id", value: parent.toString() }],
  });
  const { results } = await ds.createEntries({ entries: [entry] });
  const status = results[0]?.status;
  if (!status) throw new Error("datastore returned no result");
  if (status.code !== Code.OK) throw new Error(status.message);
}

function joinTokenAgentIdOrCause(td: TrustDomain, token: string): SpiffeId {
  try {
    return joinTokenAgentId(td, token);
  } catch (e) {
    throw new Error(e instanceof Error ? e.message : String(e));
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof RpcError && e.code === Code.NOT_FOUND;
}

const noFields = {
  attestationDataType: false,
  certSerialNumber: false,
  certNotAfter: false,
  newCertSerialNumber: false,
  newCertNotAfter: false,
  canReattest: false,
  agentVersion: false,
};

function emptyNode(spiffeId: string): AttestedNode {
  return {
    spiffeId,
    attestationDataType: "",
    certSerialNumber: "",
    certNotAfter: 0n,
    newCertSerialNumber: "",
    newCertNotAfter: 0n,
    selectors: [],
    canReattest: false,
    agentVersion: "",
  };
}
