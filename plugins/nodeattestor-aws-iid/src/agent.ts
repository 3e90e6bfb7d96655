/**
 * The agent half: SPIRE's aws_iid AidAttestation. The instance identity document and both its
 * signatures are read from IMDS afresh for every attestation and sent as the one payload; the
 * server never challenges.
 */
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { Challenge, PayloadOrChallengeResponse } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import type { AgentConfig } from "./config.js";
import { ImdsError, fetchInstanceIdentity } from "./imds.js";
import { encodeAttestationData } from "./payload.js";

export interface AgentDeps {
  readonly config: () => AgentConfig | undefined;
}

export function agentAidAttestation(deps: AgentDeps) {
  return async function* aidAttestation(_challenges: AsyncIterable<Challenge>, ctx: CallContext): AsyncGenerator<PayloadOrChallengeResponse> {
    const config = deps.config();
    if (!config) throw PluginError.failedPrecondition("not configured");
    let data;
    try {
      data = await fetchInstanceIdentity({ endpoint: config.ec2MetadataEndpoint }, ctx.signal);
    } catch (e) {
      // SPIRE's agent returns the SDK's error as it is: Unknown, with the SDK's words.
      if (e instanceof ImdsError) throw PluginError.unknown(e.message);
      throw e;
    }
    yield { data: { $case: "payload", value: encodeAttestationData(data) } };
  };
}
