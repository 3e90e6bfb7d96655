/**
 * The server half: SPIRE's k8s_psat Attest. The payload names a configured cluster and carries a
 * projected service account token; the token is believed only after that cluster's API server
 * has authenticated it (TokenReview) for the configured audiences. No challenge: the token is
 * short-lived and bound to a pod, whose UID must still be the one the token names, and the pod's
 * node gives the agent ID. The token goes to no one but that cluster's API server.
 */
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { AttestRequest, AttestResponse } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { SpiffeIdError } from "@signet/spiffe";
import type { KubernetesClient } from "./apiserver.js";
import type { ClusterConfig, ServerConfig } from "./config.js";
import { PayloadDecodeError, decodeAttestationData } from "./payload.js";
import { agentId, selectorValues } from "./selectors.js";
import { TokenReviewError, checkAudiences, podNameOf, podUidOf, serviceAccountOf } from "./token-review.js";

/**
 * Payloads above this are refused before parsing. Projected tokens are 1–2 KiB (a few more with
 * long names); SPIRE relies on gRPC's 4 MiB limit, which would let an agent make the server send
 * megabytes to the API server.
 */
export const maxPayloadBytes = 64 << 10;

/** The longest the API calls of one attestation may take, whatever the RPC's own deadline. */
export const attestationBudgetMs = 30_000;

export interface ServerDeps {
  readonly config: () => ServerConfig | undefined;
  /** The API server client of a configured cluster. */
  readonly client: (cluster: ClusterConfig) => KubernetesClient;
}

export function serverAttest(deps: ServerDeps) {
  return async function* attest(requests: AsyncIterable<AttestRequest>, ctx: CallContext): AsyncGenerator<AttestResponse> {
    const first = await requests[Symbol.asyncIterator]().next();
    if (first.done) return;
    const config = deps.config();
    if (!config) throw PluginError.failedPrecondition("not configured");
    if (first.value.request?.$case !== "payload") throw PluginError.invalidArgument("missing attestation payload");
    const payload = first.value.request.value;
    if (payload.length > maxPayloadBytes) {
      throw PluginError.invalidArgument(`failed to unmarshal data payload: attestation payload is ${payload.length} bytes; the limit is ${maxPayloadBytes}`);
    }
    let data;
    try {
      data = decodeAttestationData(payload);
    } catch (e) {
      if (e instanceof PayloadDecodeError) throw PluginError.invalidArgument(`failed to unmarshal data payload: ${e.message}`);
      throw e;
    }
    if (data.cluster === "") throw PluginError.invalidArgument("missing cluster in attestation data");
    if (data.token === "") throw PluginError.invalidArgument("missing token in attestation data");
    const cluster = config.clusters.get(data.cluster);
    if (!cluster) throw PluginError.invalidArgument(`not configured for cluster ${JSON.stringify(data.cluster)}`);

    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(attestationBudgetMs)]);
    const attested = await attestWithCluster(deps.client(cluster), cluster, data.token, signal);
    let spiffeId: string;
    try {
      spiffeId = agentId(config.trustDomain, attested, cluster).toString();
    } catch (e) {
      if (e instanceof SpiffeIdError) throw PluginError.internal(`failed to make agent ID for cluster ${JSON.stringify(cluster.name)}: ${e.message}`);
      throw e;
    }
    yield { response: { $case: "agentAttributes", value: { spiffeId, selectorValues: selectorValues(attested, cluster), canReattest: true } } };
  };
}

async function attestWithCluster(client: KubernetesClient, cluster: ClusterConfig, token: string, signal: AbortSignal) {
  const name = JSON.stringify(cluster.name);
  const review = await client.validateToken(token, cluster.audience, signal).catch((e: unknown) => {
    throw PluginError.internal(`unable to validate token with TokenReview API for cluster ${name}: ${(e as Error).message}`);
  });
  // SPIRE answers Internal when the review carries an error, but that error is the API server
  // refusing the token (bad signature, expired, wrong audience, pod gone): the agent's fault.
  if (review.error !== "") {
    throw PluginError.permissionDenied(`unable to validate token with TokenReview API for cluster ${name}: token review API response contains an error: ${review.error}`);
  }
  try {
    checkAudiences(cluster.audience, review);
  } catch (e) {
    if (e instanceof TokenReviewError) throw PluginError.internal(`unable to validate token with TokenReview API for cluster ${name}: ${e.message}`);
    throw e;
  }
  if (!review.authenticated) throw PluginError.permissionDenied(`token not authenticated according to TokenReview API for cluster ${name}`);

  const { namespace, serviceAccount } = fromReview(() => serviceAccountOf(review.username), `fail to parse username from token review status for cluster ${name}`);
  const fullName = `${namespace}:${serviceAccount}`;
  if (!cluster.serviceAccounts.has(fullName)) throw PluginError.permissionDenied(`${JSON.stringify(fullName)} is not an allowed service account for cluster ${name}`);
  const podName = fromReview(() => podNameOf(review), `fail to get pod name from token review status for cluster ${name}`);
  const podUid = fromReview(() => podUidOf(review), `fail to get pod UID from token review status for cluster ${name}`);

  const pod = await client.getPod(namespace, podName, signal).catch((e: unknown) => {
    throw PluginError.internal(`fail to get pod from k8s API server for cluster ${name}: ${(e as Error).message}`);
  });
  if (pod.uid !== podUid) {
    throw PluginError.permissionDenied(`pod UID mismatch for pod ${JSON.stringify(podName)} in cluster ${name}: token bound to pod UID ${JSON.stringify(podUid)}`);
  }
  const node = await client.getNode(pod.nodeName, signal).catch((e: unknown) => {
    throw PluginError.internal(`fail to get node from k8s API server for cluster ${name}: ${(e as Error).message}`);
  });
  if (node.uid === "") throw PluginError.internal(`node UID is empty for cluster ${name}`);
  return { cluster: cluster.name, namespace, serviceAccount, podName, podUid, pod, node };
}

function fromReview<T>(read: () => T, context: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof TokenReviewError) throw PluginError.internal(`${context}: ${e.message}`);
    throw e;
  }
}
