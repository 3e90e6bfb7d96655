// signet-agent on a (fake) EC2 instance attesting with aws_iid: the agent half reads the instance
// identity document and its signatures from IMDSv2, signet-server's aws_iid plugin verifies them
// against the test "AWS" certificates, describes the instance through EC2 and IAM (the AWS SDK
// reaches the fakes through AWS_ENDPOINT_URL_*), and asks the server's AgentStore host service
// whether the instance attested before (TOFU). The agent gets its SVID, a workload gets its
// X509-SVID, and a second agent replaying the same instance identity is refused.
import { X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import type { RunningAgent } from "@signet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Ec2World, accountId, instanceId, region, startEc2World } from "../fakes/aws/ec2-world.js";
import { firstX509SvidResponse, startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

let world: Ec2World;
let server: TestServer;
let agent: RunningAgent;
let agentDir = "";
let socketPath = "";
const saved: Record<string, string | undefined> = {};
const agentId = `spiffe://example.org/spire/agent/aws_iid/${accountId}/${region}/${instanceId}`;

const hclMap = (m: Record<string, string>) => `{ ${Object.entries(m).map(([k, v]) => `"${k}" = "${v}"`).join(", ")} }`;

beforeAll(async () => {
  world = await startEc2World();
  // The server's plugin processes inherit this process's environment: the SDK's endpoints.
  for (const key of ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_DISABLED"]) {
    saved[key] = process.env[key];
    process.env[key] = world.env[key];
  }
  const trust = world.trust;
  server = await startTestServer({
    extraPlugins: `    NodeAttestor "aws_iid" {
        plugin_data {
            access_key_id = "AKIDE2E"
            secret_access_key = "e2e-secret"
            signet_rsa2048_certificates = ${hclMap(trust["signet_rsa2048_certificates"]!)}
            signet_rsa1024_certificates = ${hclMap(trust["signet_rsa1024_certificates"]!)}
        }
    }`,
  });
  ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, {
    nodeAttestor: `NodeAttestor "aws_iid" { plugin_data { ec2_metadata_endpoint = "${world.imds.url}" } }`,
    extraAgentConfig: 'experimental { sync_interval = "1s" }',
  }));
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  await world?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

const idOf = (der: Buffer) => new X509Certificate(der).subjectAltName;

describe("agent with the aws_iid NodeAttestor", () => {
  it("attests with the instance identity document and is not re-attestable", () => {
    expect(idOf(agent.svid.current().chain[0]!)).toBe(`URI:${agentId}`);
    expect(agent.svid.current().reattestable).toBe(false);
    // The agent half used IMDSv2 and the server half asked EC2 and IAM about the instance.
    expect(world.imds.calls[0]).toMatchObject({ method: "PUT", path: "/latest/api/token", status: 200 });
    expect(world.ec2.calls.some((c) => c.action === "DescribeInstances" && c.params.get("InstanceId.1") === instanceId && c.accessKeyId === "AKIDE2E")).toBe(true);
    expect(world.iam.calls.some((c) => c.action === "GetInstanceProfile" && c.params.get("InstanceProfileName") === "node-profile")).toBe(true);
  });

  it("serves a workload entry parented by its agent ID", async () => {
    await server.createEntry({ spiffeId: "spiffe://example.org/aws-workload", parentId: agentId, selectors: [`unix:uid:${process.getuid!()}`] });
    const synced = Date.now() + 10_000;
    while (agent.cache.svidCount === 0 && Date.now() < synced) await new Promise((r) => setTimeout(r, 100));
    const first = await firstX509SvidResponse(socketPath);
    expect(first.svids[0]!.spiffeId).toBe("spiffe://example.org/aws-workload");
  }, 30_000);

  it("refuses a second agent presenting the same instance identity (TOFU through AgentStore)", async () => {
    let dir = "";
    try {
      const second = await startTestAgent(server, { nodeAttestor: `NodeAttestor "aws_iid" { plugin_data { ec2_metadata_endpoint = "${world.imds.url}" } }` });
      dir = second.dir;
      await second.agent.stop();
      expect.fail("a second agent attested with an instance identity already used");
    } catch (e) {
      expect(String((e as Error).message)).toMatch(/attestation data has already been used to attest an agent/);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
