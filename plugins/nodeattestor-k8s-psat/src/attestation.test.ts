/**
 * The server half in process against fake Kubernetes API servers over HTTPS, through the real
 * @kubernetes/client-node client: SPIRE's codes and messages for every refusal, the agent ID
 * forms, audiences, retries of a flaky API server, deadlines of a hung one, and the kubeconfig
 * read again for every attestation.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { type CallContext, Code, RpcError, toRpcError } from "@signet/plugin-sdk";
import type { AgentAttributes, AttestRequest } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { afterAll, describe, expect, it } from "vitest";
import { FakeKubernetes } from "../../../test/fakes/kubernetes/api-server.js";
import { kubernetesClient } from "./apiserver.js";
import { type ClusterConfig, type ServerConfig, parseConfig } from "./config.js";
import { encodeAttestationData } from "./payload.js";
import type { RetryPolicy } from "./retry.js";
import { maxPayloadBytes, serverAttest } from "./server.js";

const dir = mkdtempSync(join(tmpdir(), "k8s-psat-attest-"));
const prod = await FakeKubernetes.start();
const racy = await FakeKubernetes.start({ checkBoundObjects: false });
const legacy = await FakeKubernetes.start({ audienceAware: false });
afterAll(async () => {
  await Promise.all([prod.close(), racy.close(), legacy.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const node = prod.addNode({ name: "node-1" });
const pod = prod.addPod({ namespace: "spire", name: "agent-1", nodeName: "node-1", serviceAccount: "spire-agent" });
prod.addPod({ namespace: "default", name: "web-1", nodeName: "node-1", serviceAccount: "web" });
for (const f of [racy, legacy]) {
  f.addNode({ name: "node-1" });
  f.addPod({ namespace: "spire", name: "agent-1", nodeName: "node-1", serviceAccount: "spire-agent" });
}
const sa = { namespace: "spire", serviceAccount: "spire-agent", podName: "agent-1" };
const fast: RetryPolicy = { attemptTimeoutMs: 300, initialBackoffMs: 1, maxBackoffMs: 5 };

const kubeconfigs = {
  prod: prod.writeKubeconfig(join(dir, "prod")),
  racy: racy.writeKubeconfig(join(dir, "racy")),
  legacy: legacy.writeKubeconfig(join(dir, "legacy")),
  apiAudience: prod.writeKubeconfig(join(dir, "api-audience")),
  podIds: prod.writeKubeconfig(join(dir, "pod-ids")),
  rotating: prod.writeKubeconfig(join(dir, "rotating")),
};
const config = (await parseConfig(
  JSON.stringify({
    clusters: {
      prod: { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.prod },
      racy: { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.racy },
      legacy: { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.legacy },
      "api-audience": { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.apiAudience, audience: [] },
      "pod-ids": { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.podIds, use_pod_uid_for_agent_id: true },
      rotating: { service_account_allow_list: ["spire:spire-agent"], kube_config_file: kubeconfigs.rotating },
    },
  }),
  "example.org",
)) as ServerConfig;

const clients = new Map<ClusterConfig, ReturnType<typeof kubernetesClient>>();
const attest = serverAttest({
  config: () => config,
  client: (c) => clients.get(c) ?? clients.set(c, kubernetesClient(c.kubeConfigFile, fast)).get(c)!,
});

async function attestWith(payload: Buffer, signal: AbortSignal = new AbortController().signal): Promise<AgentAttributes> {
  async function* requests(): AsyncGenerator<AttestRequest> {
    yield { request: { $case: "payload", value: payload } };
  }
  const ctx: CallContext = { method: "Attest", metadata: new Metadata(), peer: "test", signal };
  try {
    for await (const res of attest(requests(), ctx)) {
      if (res.response?.$case === "agentAttributes") return res.response.value;
    }
  } catch (e) {
    throw toRpcError(e);
  }
  throw new Error("no agent attributes");
}

async function refusal(payload: Buffer, signal?: AbortSignal): Promise<RpcError> {
  const e = await attestWith(payload, signal).then(
    (a) => new Error(`accepted as ${a.spiffeId}`),
    (err: unknown) => err,
  );
  if (!(e instanceof RpcError)) throw e;
  return e;
}

const psat = (cluster: string, token: string) => encodeAttestationData({ cluster, token });

describe("k8s_psat server half", () => {
  it("names the agent after its node, or after its pod with use_pod_uid_for_agent_id", async () => {
    const a = await attestWith(psat("prod", prod.issueToken(sa)));
    expect(a.spiffeId).toBe(`spiffe://example.org/spire/agent/k8s_psat/prod/${node.uid}`);
    expect(a.canReattest).toBe(true);
    const b = await attestWith(psat("pod-ids", prod.issueToken(sa)));
    expect(b.spiffeId).toBe(`spiffe://example.org/spire/agent/k8s_psat/pod-ids/pod/${pod.uid}`);
    expect(b.selectorValues).toContain("cluster:pod-ids");
  });

  it("refuses what an attacker can bring with SPIRE's codes and messages", async () => {
    const cases: [Buffer, Code, string | RegExp][] = [
      [psat("staging", prod.issueToken(sa)), Code.INVALID_ARGUMENT, 'not configured for cluster "staging"'],
      [psat("", "x"), Code.INVALID_ARGUMENT, "missing cluster in attestation data"],
      [Buffer.from('{"cluster":"prod"}'), Code.INVALID_ARGUMENT, "missing token in attestation data"],
      [Buffer.from("[1]"), Code.INVALID_ARGUMENT, "failed to unmarshal data payload: json: cannot unmarshal array into Go value of type k8s.PSATAttestationData"],
      [Buffer.from('{"cluster":'), Code.INVALID_ARGUMENT, /^failed to unmarshal data payload: /],
      [Buffer.alloc(maxPayloadBytes + 1, 0x20), Code.INVALID_ARGUMENT, /the limit is 65536$/],
      [psat("prod", prod.issueToken({ ...sa, audiences: ["vault"] })), Code.PERMISSION_DENIED,
        'unable to validate token with TokenReview API for cluster "prod": token review API response contains an error: token audiences ["vault"] is invalid for the target audiences ["spire-server"]'],
      [psat("prod", prod.issueToken({ ...sa, issuedAt: Math.floor(Date.now() / 1000) - 7200, expirationSeconds: 600 })), Code.PERMISSION_DENIED, /response contains an error: service account token has expired$/],
      [psat("prod", prod.issueToken({ ...sa, signingKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey })), Code.PERMISSION_DENIED, /response contains an error: go-jose\/go-jose: error in cryptographic primitive$/],
      [psat("prod", prod.issueToken({ ...sa, issuer: "https://elsewhere" })), Code.PERMISSION_DENIED, 'token not authenticated according to TokenReview API for cluster "prod"'],
      [psat("prod", "not-a-jwt"), Code.PERMISSION_DENIED, 'token not authenticated according to TokenReview API for cluster "prod"'],
      [psat("prod", prod.issueToken({ namespace: "default", serviceAccount: "web", podName: "web-1" })), Code.PERMISSION_DENIED, '"default:web" is not an allowed service account for cluster "prod"'],
      [psat("racy", racy.issueToken({ ...sa, podUid: "stale" })), Code.PERMISSION_DENIED, 'pod UID mismatch for pod "agent-1" in cluster "racy": token bound to pod UID "stale"'],
      [psat("prod", prod.issueToken({ ...sa, podUid: "stale" })), Code.PERMISSION_DENIED, /response contains an error: service account token has been invalidated: pod UID/],
      [psat("racy", racy.issueToken({ ...sa, podName: "gone" })), Code.INTERNAL, 'fail to get pod from k8s API server for cluster "racy": unable to query pods API: pods "gone" not found'],
      [psat("prod", prod.issueToken({ namespace: "spire", serviceAccount: "spire-agent" })), Code.INTERNAL, 'fail to get pod name from token review status for cluster "prod": missing pod name'],
    ];
    for (const [payload, code, message] of cases) {
      const e = await refusal(payload);
      expect({ code: e.code, message: e.message }).toEqual({ code, message: typeof message === "string" ? message : expect.stringMatching(message) });
    }
  });

  it("accepts only audience-aware reviews: an API server that ignores audiences is refused", async () => {
    const e = await refusal(psat("legacy", legacy.issueToken({ ...sa, audiences: ["vault"] })));
    expect(e.code).toBe(Code.INTERNAL);
    expect(e.message).toBe('unable to validate token with TokenReview API for cluster "legacy": token review API did not validate audience: wanted one of ["spire-server"] but got []');
  });

  it("with audience = [] asks for the API server's own audiences", async () => {
    await attestWith(psat("api-audience", prod.issueToken({ ...sa, audiences: [prod.issuer] })));
    const e = await refusal(psat("api-audience", prod.issueToken(sa)));
    expect(e.message).toMatch(/is invalid for the target audiences \["https:\/\/kubernetes.default.svc.cluster.local"\]$/);
    const review = prod.requests.filter((r) => r.path.endsWith("/tokenreviews")).at(-1)!;
    expect(JSON.parse(review.body).spec.audiences).toBeUndefined();
  });

  it("retries an API server that is busy or drops connections, and succeeds", async () => {
    const before = prod.requests.length;
    prod.failNext(2, { status: 503 });
    prod.failNext(1, "reset");
    prod.failNext(1, { status: 429 });
    await attestWith(psat("prod", prod.issueToken(sa)));
    // 4 failed attempts, then the review, the pod and the node.
    expect(prod.requests.length - before).toBe(7);
  });

  it("does not retry a refusal: wrong client credentials fail at once, naming the cluster", async () => {
    prod.writeKubeconfig(kubeconfigs.rotating, { token: "revoked" });
    const before = prod.requests.length;
    const e = await refusal(psat("rotating", prod.issueToken(sa)));
    expect(e.code).toBe(Code.INTERNAL);
    expect(e.message).toBe('unable to validate token with TokenReview API for cluster "rotating": unable to query token review API: Unauthorized');
    expect(prod.requests.length - before).toBe(1);
    // The kubeconfig is read again for every attestation: fixed credentials work at once.
    prod.writeKubeconfig(kubeconfigs.rotating);
    await attestWith(psat("rotating", prod.issueToken(sa)));
  });

  it("gives up on a hung API server when the call's deadline passes", async () => {
    racy.failNext(1000, "hang");
    try {
      const e = await refusal(psat("racy", racy.issueToken(sa)), AbortSignal.timeout(1_000));
      expect(e.code).toBe(Code.INTERNAL);
      expect(e.message).toMatch(/^unable to validate token with TokenReview API for cluster "racy": unable to query token review API: context (canceled|deadline exceeded)( \(last attempt: no answer within 300 ms\))?$/);
    } finally {
      racy.clearFaults();
    }
  });
});
