/**
 * Drives the Agent API's AttestAgent stream as an agent does: send params,
 * answer each challenge with `answer`, return the one result (or throw the
 * stream's RpcError).
 */
import type { AsyncClient } from "@signet/proto";
import type {
  AgentService,
  AttestAgentRequest,
  AttestAgentResponse_Result,
} from "@signet/proto/spire/api/server/agent/v1/agent";

export interface AttestOutcome {
  readonly result: AttestAgentResponse_Result;
  readonly challenges: number;
}

export async function attestOverStream(
  client: AsyncClient<typeof AgentService>,
  first: AttestAgentRequest | undefined,
  answer: (challenge: Buffer) => Buffer | undefined = (c) => Buffer.from(c).reverse(),
): Promise<AttestOutcome> {
  const call = client.attestAgent();
  if (first) call.send(first);
  else call.end();
  let challenges = 0;
  let result: AttestAgentResponse_Result | undefined;
  for await (const msg of call) {
    if (msg.step?.$case === "challenge") {
      challenges++;
      const reply = answer(msg.step.value);
      if (reply === undefined) call.end();
      else call.send({ step: { $case: "challengeResponse", value: reply } });
      continue;
    }
    if (msg.step?.$case === "result") {
      if (result) throw new Error("server sent two results");
      result = msg.step.value;
    }
  }
  call.end();
  if (!result) throw new Error("stream ended without a result");
  return { result, challenges };
}

export function attestParams(type: string, payload: Buffer | string, csr: Buffer): AttestAgentRequest {
  return {
    step: {
      $case: "params",
      value: { data: { type, payload: Buffer.from(payload) }, params: { csr } },
    },
  };
}
