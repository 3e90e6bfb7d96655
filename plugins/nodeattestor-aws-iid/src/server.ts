/**
 * The server half: SPIRE's aws_iid Attest. The payload's signature is verified with AWS's
 * certificates before the document is read; then the account may be checked against the
 * organization's list, the instance is described (it must be pending or running, and its root
 * volume must not have been swapped), the agent ID is made, Trust On First Use refuses an
 * instance that already attested, and the selectors are gathered. No challenge: the signed
 * document is the whole proof, which is why it may be used only once (can_reattest = false).
 */
import type { DescribeInstancesCommandOutput, Instance } from "@aws-sdk/client-ec2";
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { AttestRequest, AttestResponse } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { makeAgentId } from "./agent-id.js";
import { type AwsClient, describeAwsError } from "./aws-clients.js";
import { blockDeviceProblem } from "./block-device.js";
import type { ServerConfig } from "./config.js";
import type { InstanceIdentityDocument } from "./document.js";
import { verifyIdentityDocument } from "./identity.js";
import type { OrganizationValidator } from "./organization.js";
import { PayloadError, decodeAttestationData } from "./payload.js";
import { documentSelectors, instanceProfileNameFromArn, instanceProfileSelectors, securityGroupSelectors, sortedUnique, tagSelectors } from "./selectors.js";

/** A configured server half: its settings and what it keeps between attestations. */
export interface ServerState {
  readonly config: ServerConfig;
  readonly clients: { get(region: string, accountId: string): AwsClient };
  readonly organization?: OrganizationValidator;
}

export interface ServerDeps {
  readonly state: () => ServerState | undefined;
  /** AgentStore: whether `agentId` has attested before (throws PluginError on failure). */
  readonly isAttested: (agentId: string, signal: AbortSignal) => Promise<boolean>;
  readonly log: { error(message: string, fields: Record<string, unknown>): void };
}

export function serverAttest(deps: ServerDeps) {
  return async function* attest(requests: AsyncIterable<AttestRequest>, ctx: CallContext): AsyncGenerator<AttestResponse> {
    const first = await requests[Symbol.asyncIterator]().next();
    const request = first.done ? undefined : first.value.request;
    if (request?.$case !== "payload") throw PluginError.invalidArgument("missing attestation payload");
    const state = deps.state();
    if (!state) throw PluginError.failedPrecondition("not configured");
    const { config } = state;

    let data;
    try {
      data = decodeAttestationData(request.value);
    } catch (e) {
      if (e instanceof PayloadError) throw PluginError.invalidArgument(`failed to unmarshal the attestation data: ${e.message}`);
      throw e;
    }
    const doc = verifyIdentityDocument(data, config.certificates);

    if (state.organization) await checkOrganization(state.organization, doc.accountId);

    const client = state.clients.get(doc.region, doc.accountId);
    let described: DescribeInstancesCommandOutput;
    try {
      described = await client.describeInstances(doc.instanceId, ctx.signal);
    } catch (e) {
      throw PluginError.internal(`failed to describe instance: ${describeAwsError("EC2", "DescribeInstances", e)}`);
    }

    // The instance is read before TOFU because the agent ID may need its tags (as SPIRE does).
    const checkBlockDevice = !config.skipBlockDevice && !config.localValidAccountIds.includes(doc.accountId);
    let tags = new Map<string, string>();
    if (config.templateUsesTags || checkBlockDevice) {
      const instance = firstInstance(described);
      tags = new Map((instance.Tags ?? []).filter((t) => t.Key !== undefined && t.Value !== undefined).map((t) => [t.Key!, t.Value!]));
      if (checkBlockDevice) {
        const problem = blockDeviceProblem(instance);
        if (problem) throw PluginError.internal(`failed aws ec2 attestation: ${problem}`);
      }
    }

    let agentId: string;
    try {
      agentId = makeAgentId(config.trustDomain, config.pathTemplate, doc, tags).toString();
    } catch (e) {
      throw PluginError.internal(`failed to create spiffe ID: ${(e as Error).message}`);
    }

    if (await deps.isAttested(agentId, ctx.signal)) {
      deps.log.error("Attestation data has already been used to attest an agent", { spiffe_id: agentId });
      throw PluginError.permissionDenied("attestation data has already been used to attest an agent");
    }

    const selectorValues = await resolveSelectors(described, doc, config, client, ctx.signal);
    yield { response: { $case: "agentAttributes", value: { spiffeId: agentId, selectorValues, canReattest: false } } };
  };
}

async function checkOrganization(organization: OrganizationValidator, accountId: string): Promise<void> {
  let member: boolean;
  try {
    member = await organization.isMemberAccount(accountId);
  } catch (e) {
    throw PluginError.internal(`failed aws ec2 attestation, issue while verifying if nodes account id: ${accountId} belong to org: ${(e as Error).message}`);
  }
  if (!member) {
    throw PluginError.internal(`failed aws ec2 attestation, nodes account id: ${accountId} is not part of configured organization or doesn't have ACTIVE status`);
  }
}

function firstInstance(described: DescribeInstancesCommandOutput): Instance {
  const reservation = described.Reservations?.[0];
  if (!reservation) throw PluginError.internal("failed to query AWS via describe-instances: returned no reservations");
  const instance = reservation.Instances?.[0];
  if (!instance) throw PluginError.internal("failed to query AWS via describe-instances: returned no instances");
  return instance;
}

async function resolveSelectors(
  described: DescribeInstancesCommandOutput,
  doc: InstanceIdentityDocument,
  config: ServerConfig,
  client: AwsClient,
  signal: AbortSignal,
): Promise<string[]> {
  const values: string[] = [];
  for (const reservation of described.Reservations ?? []) {
    for (const instance of reservation.Instances ?? []) {
      values.push(...tagSelectors(instance.Tags), ...securityGroupSelectors(instance.SecurityGroups));
      const profileArn = instance.IamInstanceProfile?.Arn;
      if (config.disableInstanceProfileSelectors || profileArn === undefined) continue;
      let name: string;
      try {
        name = instanceProfileNameFromArn(profileArn);
      } catch (e) {
        throw PluginError.internal((e as Error).message);
      }
      try {
        values.push(...instanceProfileSelectors(await client.getInstanceProfile(name, signal)));
      } catch (e) {
        // SPIRE's wording, typo included, so the logs read the same.
        throw PluginError.internal(`failed to get intance profile: ${describeAwsError("IAM", "GetInstanceProfile", e)}`);
      }
    }
  }
  values.push(...documentSelectors(doc));
  return sortedUnique(values);
}
