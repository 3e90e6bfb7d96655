/**
 * The two halves in process, through their real handlers and the real AWS SDK: the agent reads
 * the fake IMDS, the server verifies the document and describes the instance through the fake
 * EC2, IAM and STS endpoints (AWS_ENDPOINT_URL_*). Every refusal SPIRE makes, with its code.
 */
import { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallContext, Code, PluginError, toRpcError } from "@signet/plugin-sdk";
import type { AttestResponse } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { type Ec2World, accountId, identity, instance, instanceId, region, roleArn, startEc2World } from "../../../test/fakes/aws/ec2-world.js";
import { FakeSts } from "../../../test/fakes/aws/sts.js";
import { agentAidAttestation } from "./agent.js";
import { AwsClients } from "./aws-clients.js";
import { type ServerConfig, parseConfig } from "./config.js";
import { OrganizationValidator } from "./organization.js";
import { encodeAttestationData } from "./payload.js";
import { serverAttest } from "./server.js";

let world: Ec2World;
const saved: Record<string, string | undefined> = {};
beforeAll(async () => {
  world = await startEc2World();
  for (const [k, v] of Object.entries(world.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await world?.close();
});

const ctx = (signal = AbortSignal.timeout(25_000)): CallContext => ({ method: "/test", metadata: new Metadata(), peer: "test", signal }) as CallContext;

async function serverConfig(extra: Record<string, unknown> = {}): Promise<ServerConfig> {
  const c = await parseConfig(JSON.stringify({ ...world.trust, ...extra }), "example.org", world.env);
  return c.server!;
}

async function* once<T>(item: T): AsyncGenerator<T> {
  yield item;
}

interface Outcome {
  readonly attributes?: { spiffeId: string; selectorValues: string[]; canReattest: boolean };
  readonly error?: { code: Code; message: string };
}

async function attest(payload: Buffer, config: ServerConfig, attested: ReadonlySet<string> = new Set(), signal?: AbortSignal): Promise<Outcome> {
  const clients = new AwsClients(config);
  const state = { config, clients, ...(config.organization ? { organization: new OrganizationValidator(config.organization) } : {}) };
  const handler = serverAttest({ state: () => state, isAttested: async (id) => attested.has(id), log: { error: () => {} } });
  try {
    const out: AttestResponse[] = [];
    for await (const r of handler(once({ request: { $case: "payload" as const, value: payload } }), ctx(signal))) out.push(r);
    const last = out[out.length - 1]?.response;
    if (last?.$case !== "agentAttributes") throw new Error("no attributes");
    return { attributes: last.value };
  } catch (e) {
    const rpc = toRpcError(e);
    return { error: { code: rpc.code, message: rpc.message } };
  } finally {
    clients.destroy();
  }
}

async function agentPayload(endpoint = world.imds.url): Promise<Buffer> {
  const handler = agentAidAttestation({ config: () => ({ ec2MetadataEndpoint: endpoint }) });
  for await (const r of handler(once({ challenge: Buffer.alloc(0) }), ctx())) {
    if (r.data?.$case === "payload") return r.data.value;
  }
  throw new Error("no payload");
}

const agentIdOf = `spiffe://example.org/spire/agent/aws_iid/${accountId}/${region}/${instanceId}`;

describe("aws_iid attestation against fake IMDS, EC2, IAM and STS", () => {
  it("the agent reads IMDSv2 (token first, on every GET) and sends SPIRE's payload", async () => {
    world.imds.calls.length = 0;
    const payload = await agentPayload();
    const sent = JSON.parse(payload.toString()) as Record<string, string>;
    expect(Object.keys(sent)).toEqual(["document", "signature", "rsa2048"]);
    expect(sent).toEqual(world.imds.identity);
    const calls = world.imds.calls;
    expect(calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "PUT /latest/api/token 200",
      "GET /latest/dynamic/instance-identity/document 200",
      "GET /latest/dynamic/instance-identity/signature 200",
      "GET /latest/dynamic/instance-identity/rsa2048 200",
    ]);
    expect(calls.slice(1).every((c) => c.token !== undefined && c.token === calls.slice(1)[0]!.token)).toBe(true);
  });

  it("ec2_metadata_endpoint with a path still reaches /latest/... on its host, as the Go SDK does", async () => {
    expect(JSON.parse((await agentPayload(`${world.imds.url}/latest`)).toString())).toEqual(world.imds.identity);
  });

  it("an IMDS error is Unknown with the Go SDK's words; 5xx answers are retried", async () => {
    world.imds.failNext = { status: 503, count: 1 };
    expect((await agentPayload()).length).toBeGreaterThan(0);
    world.imds.failNext = { status: 404, count: 10 };
    const handler = agentAidAttestation({ config: () => ({ ec2MetadataEndpoint: world.imds.url }) });
    world.imds.failNext = { status: 400, count: 1 };
    await expect(handler(once({ challenge: Buffer.alloc(0) }), ctx()).next()).rejects.toMatchObject({ kind: "unknown", message: "operation error ec2imds: GetToken, http response error StatusCode: 400, request to EC2 IMDS failed" });
    world.imds.failNext = undefined;
  });

  it("names the agent by account, region and instance, with SPIRE's sorted selectors, and never re-attests", async () => {
    world.ec2.calls.length = 0;
    const r = await attest(await agentPayload(), await serverConfig());
    expect(r.error).toBeUndefined();
    expect(r.attributes).toEqual({
      spiffeId: agentIdOf,
      canReattest: false,
      selectorValues: [
        `account_id:${accountId}`,
        `az:${region}b`,
        `iamrole:${roleArn}`,
        `image:id:${identity.imageId}`,
        `instance:id:${instanceId}`,
        `region:${region}`,
        "sg:id:sg-0aaa",
        "sg:name:nodes",
        "tag:Name:node-1",
        "tag:team:blue",
      ],
    });
    // The instance's region and the pending/running filter went to EC2.
    const call = world.ec2.calls[0]!;
    expect(call.region).toBe(region);
    expect([...call.params]).toEqual(expect.arrayContaining([["InstanceId.1", instanceId], ["Filter.1.Name", "instance-state-name"], ["Filter.1.Value.1", "pending"], ["Filter.1.Value.2", "running"]]));
  });

  it("verifies the RSA-1024 signature when the payload has no rsa2048 (older agents)", async () => {
    const { document, signature } = world.imds.identity;
    const r = await attest(encodeAttestationData({ document, signature, rsa2048: "" }), await serverConfig());
    expect(r.attributes?.spiffeId).toBe(agentIdOf);
  });

  it("agent_path_template with .Tags, disable_instance_profile_selectors, assume_role", async () => {
    world.iam.calls.length = 0;
    world.sts.calls.length = 0;
    world.ec2.calls.length = 0;
    const r = await attest(
      await agentPayload(),
      await serverConfig({ agent_path_template: "/{{ .PluginName }}/{{ .Tags.team }}/{{ .InstanceID }}", disable_instance_profile_selectors: true, assume_role: "spire-server-delegate" }),
    );
    expect(r.attributes?.spiffeId).toBe(`spiffe://example.org/spire/agent/aws_iid/blue/${instanceId}`);
    expect(r.attributes?.selectorValues.some((s) => s.startsWith("iamrole:"))).toBe(false);
    expect(world.iam.calls).toHaveLength(0);
    expect(world.sts.calls.map((c) => c.params.get("RoleArn"))).toEqual([`arn:aws:iam::${accountId}:role/spire-server-delegate`]);
    expect(world.ec2.calls[0]!.accessKeyId).toBe(FakeSts.accessKeyFor(`arn:aws:iam::${accountId}:role/spire-server-delegate`));
  });

  it("gives up with the RPC while STS has not answered AssumeRole (its own timeout is 20 s)", async () => {
    world.sts.server.hangNext = 1;
    const r = await attest(await agentPayload(), await serverConfig({ assume_role: "spire-server-slow" }), new Set(), AbortSignal.timeout(300));
    expect(r.error?.code).toBe(Code.INTERNAL);
    expect(r.error?.message).toMatch(/context deadline exceeded/);
    // The attestation ended while the AssumeRole request was still open.
    expect(world.sts.server.hanging).toBe(1);
  });

  it("refuses an instance that already attested (TOFU) with PermissionDenied", async () => {
    const r = await attest(await agentPayload(), await serverConfig(), new Set([agentIdOf]));
    expect(r.error).toEqual({ code: Code.PERMISSION_DENIED, message: "attestation data has already been used to attest an agent" });
  });

  it("refuses an instance that is not pending or running, as SPIRE does (Internal)", async () => {
    world.ec2.put({ ...instance, state: "stopped" });
    try {
      const r = await attest(await agentPayload(), await serverConfig());
      expect(r.error).toEqual({ code: Code.INTERNAL, message: "failed to query AWS via describe-instances: returned no reservations" });
    } finally {
      world.ec2.put(instance);
    }
  });

  it("refuses an instance whose root volume was attached long after its network interface", async () => {
    world.ec2.put({ ...instance, networkAttachTime: new Date("2024-05-01T10:00:00Z"), rootAttachTime: new Date("2024-05-01T10:05:00Z") });
    try {
      const payload = await agentPayload();
      expect((await attest(payload, await serverConfig())).error).toEqual({
        code: Code.INTERNAL,
        message: "failed aws ec2 attestation: failed checking the disparity device attach times, root BlockDeviceMapping and NetworkInterface[0] attach times differ by 300 seconds",
      });
      expect((await attest(payload, await serverConfig({ skip_block_device: true }))).attributes?.spiffeId).toBe(agentIdOf);
      expect((await attest(payload, await serverConfig({ account_ids_for_local_validation: [accountId] }))).attributes?.spiffeId).toBe(agentIdOf);
    } finally {
      world.ec2.put(instance);
    }
  });

  it("an unknown instance is Internal with EC2's error", async () => {
    const other = { ...identity, instanceId: "i-0ffffffffffffffff" };
    const r = await attest(encodeAttestationData(world.identityOf(other)), await serverConfig());
    expect(r.error?.code).toBe(Code.INTERNAL);
    expect(r.error?.message).toMatch(/^failed to describe instance: operation error EC2: DescribeInstances, https response error StatusCode: 400, .*InvalidInstanceID\.NotFound: The instance ID 'i-0ffffffffffffffff' does not exist$/);
  });

  it("IAM failures are Internal with SPIRE's wording", async () => {
    world.iam.server.failNext = { status: 403, code: "AccessDenied", message: "not authorized to perform iam:GetInstanceProfile", count: 1 };
    const r = await attest(await agentPayload(), await serverConfig());
    expect(r.error?.code).toBe(Code.INTERNAL);
    expect(r.error?.message).toMatch(/^failed to get intance profile: operation error IAM: GetInstanceProfile, .*AccessDenied: not authorized/);
  });

  it("throttled EC2 calls are retried by the SDK", async () => {
    world.ec2.server.failNext = { status: 503, code: "RequestLimitExceeded", message: "Request limit exceeded.", count: 1 };
    expect((await attest(await agentPayload(), await serverConfig())).attributes?.spiffeId).toBe(agentIdOf);
  });

  it("a document for a region the trusted set does not cover is Internal, as SPIRE's missing certificate", async () => {
    const elsewhere = { ...identity, region: "eu-west-1" };
    const r = await attest(encodeAttestationData(world.identityOf(elsewhere)), await serverConfig());
    expect(r.error).toEqual({ code: Code.INTERNAL, message: 'failed to load the AWS CA certificate for region "eu-west-1": unsupported region "eu-west-1"' });
  });

  it("a document signed by the right key but naming another region's certificate is refused", async () => {
    // Both regions trusted, each with its own "AWS"; the document names eu-west-1 but us-west-2's key signed it.
    const other = await startEc2World({ regions: ["eu-west-1"] });
    try {
      const trust = {
        signet_rsa2048_certificates: { ...world.trust["signet_rsa2048_certificates"], ...other.trust["signet_rsa2048_certificates"] },
        signet_rsa1024_certificates: { ...world.trust["signet_rsa1024_certificates"], ...other.trust["signet_rsa1024_certificates"] },
      };
      const config = (await parseConfig(JSON.stringify(trust), "example.org", world.env)).server!;
      const forged = world.identityOf({ ...identity, region: "eu-west-1" });
      expect((await attest(encodeAttestationData(forged), config)).error).toEqual({
        code: Code.INVALID_ARGUMENT,
        message: "failed verification of instance identity cryptographic signature: pkcs7: No certificate for signer",
      });
      expect((await attest(encodeAttestationData({ ...forged, rsa2048: "" }), config)).error).toEqual({
        code: Code.INVALID_ARGUMENT,
        message: "failed to verify the cryptographic signature: crypto/rsa: verification error",
      });
    } finally {
      await other.close();
    }
  });

  it("verify_organization with account_list_file admits listed accounts only (Internal otherwise, as SPIRE)", async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "aws-iid-org-"));
    try {
      const file = join(dir, "accounts.json");
      writeFileSync(file, JSON.stringify(["111111111111"]));
      const config = await serverConfig({ verify_organization: { account_list_file: file } });
      const payload = await agentPayload();
      expect((await attest(payload, config)).error).toEqual({
        code: Code.INTERNAL,
        message: `failed aws ec2 attestation, nodes account id: ${accountId} is not part of configured organization or doesn't have ACTIVE status`,
      });
      writeFileSync(file, JSON.stringify(["111111111111", accountId]));
      expect((await attest(payload, config)).attributes?.spiffeId).toBe(agentIdOf);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("errors are values with SPIRE's codes", () => {
    expect(toRpcError(PluginError.invalidArgument("x")).code).toBe(Code.INVALID_ARGUMENT);
    expect(toRpcError(PluginError.withCode(Code.UNAVAILABLE, "y")).code).toBe(Code.UNAVAILABLE);
    expect(toRpcError(new Error("z")).code).toBe(Code.INTERNAL);
  });
});
