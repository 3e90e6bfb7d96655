import type { Metadata } from "@grpc/grpc-js";
import { type AsyncClient, Code, RpcError } from "@signet/proto";
import type { NodeAttestorService as AgentNodeAttestorService } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import type { NodeAttestorService as ServerNodeAttestorService } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import type { Selector } from "./workloadattestor.js";

/** What a server NodeAttestor concluded about an agent. */
export interface AttestationResult {
  readonly agentId: string;
  readonly selectors: readonly Selector[];
  readonly canReattest: boolean;
}

/**
 * Server half: sends the agent's payload, relays each challenge to the agent
 * (through `answer`) and its response back, until the plugin names the agent.
 */
export class ServerNodeAttestorFacade {
  constructor(
    private readonly client: AsyncClient<typeof ServerNodeAttestorService>,
    readonly name: string,
  ) {}

  async attest(
    payload: Buffer,
    answer: (challenge: Buffer) => Promise<Buffer>,
    options: { metadata?: Metadata; signal?: AbortSignal } = {},
  ): Promise<AttestationResult> {
    const call = this.client.attest(options);
    call.send({ request: { $case: "payload", value: payload } });
    try {
      for await (const res of call) {
        const step = res.response;
        if (step?.$case === "challenge") {
          const reply = await answer(step.value);
          call.send({ request: { $case: "challengeResponse", value: reply } });
          continue;
        }
        if (step?.$case === "agentAttributes") {
          const attrs = step.value;
          if (!attrs.spiffeId) throw this.internal("plugin response missing agent ID");
          const values = [...new Set(attrs.selectorValues)];
          return {
            agentId: attrs.spiffeId,
            selectors: values.map((value) => ({ type: this.name, value })),
            canReattest: attrs.canReattest,
          };
        }
        throw this.internal("plugin response missing challenge or agent attributes");
      }
    } finally {
      call.cancel();
    }
    throw this.internal("plugin closed stream unexpectedly");
  }

  private internal(message: string): RpcError {
    return new RpcError(Code.INTERNAL, `nodeattestor(${this.name}): ${message}`);
  }
}

/** One agent-side attestation in progress: the payload, then challenge answers. */
export interface AgentAttestation {
  readonly payload: Buffer;
  answer(challenge: Buffer): Promise<Buffer>;
  close(): void;
}

/** Agent half: opens the stream without sending, reads the payload, answers challenges on demand. */
export class AgentNodeAttestorFacade {
  constructor(
    private readonly client: AsyncClient<typeof AgentNodeAttestorService>,
    readonly name: string,
  ) {}

  async begin(options: { signal?: AbortSignal } = {}): Promise<AgentAttestation> {
    const call = this.client.aidAttestation(options);
    const responses = call[Symbol.asyncIterator]();
    const next = async (want: "payload" | "challengeResponse"): Promise<Buffer> => {
      const r = await responses.next();
      if (r.done) throw this.internal("plugin closed stream before returning attestation data");
      const data = r.value.data;
      if (data?.$case !== want || data.value.length === 0) {
        throw this.internal(want === "payload" ? "plugin response missing attestation payload" : "plugin response missing challenge response");
      }
      return data.value;
    };
    const payload = await next("payload");
    return {
      payload,
      answer: async (challenge) => {
        call.send({ challenge });
        return next("challengeResponse");
      },
      close: () => call.cancel(),
    };
  }

  private internal(message: string): RpcError {
    return new RpcError(Code.INTERNAL, `nodeattestor(${this.name}): ${message}`);
  }
}
