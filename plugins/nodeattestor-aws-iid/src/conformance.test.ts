/**
 * The bundled plugin program against the conformance kit, each half in its own process over the
 * real protocol: the agent half reads the fake IMDS, the server half verifies with a test "AWS"
 * (signet_rsa*_certificates), describes the instance through the fake EC2/IAM (the SDK reaches
 * them through AWS_ENDPOINT_URL_*) and asks a fake AgentStore host service about TOFU.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, RpcError, implement } from "@signet/plugin-sdk";
import { type PluginUnderTest, lifecycleSuite, nodeAttestorSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { AgentStoreService } from "@signet/proto/spire/hostservice/server/agentstore/v1/agentstore";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { accountId, identity, imageId, instance, region, roleArn, startEc2World } from "../../../test/fakes/aws/ec2-world.js";
import { IidSigner } from "../../../test/fakes/aws/iid-signer.js";
import { encodeAttestationData } from "./payload.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "nodeattestor-aws-iid", "NodeAttestor");
const vitest = { describe, it, beforeAll, afterAll };

const replayedId = "i-0aaaaaaaaaaaaaaaa";
const world = await startEc2World({ instances: [instance, { ...instance, instanceId: replayedId }] });
const dir = mkdtempSync(join(tmpdir(), "aws-iid-conformance-"));
afterAll(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

/** SPIRE's AgentStore: one agent (the replayed instance's) has attested before. */
const attested = new Set([`spiffe://example.org/spire/agent/aws_iid/${accountId}/${region}/${replayedId}`]);
const agentStore = implement(AgentStoreService, {
  async getAgentInfo(req) {
    if (!attested.has(req.agentId)) throw new RpcError(Code.NOT_FOUND, "no such agent");
    return { info: { agentId: req.agentId } };
  },
});

const env = { AWS_ENDPOINT_URL_EC2: world.ec2.url, AWS_ENDPOINT_URL_IAM: world.iam.url, AWS_ENDPOINT_URL_STS: world.sts.url, AWS_EC2_METADATA_DISABLED: "true" };
const serverData = { ...world.trust, access_key_id: "AKIDCONFORMANCE", secret_access_key: "conformance-secret" };
const base = { type: "NodeAttestor", file, sides: ["server", "agent"], env } as const;

const server: PluginUnderTest = {
  ...base,
  config: JSON.stringify(serverData),
  hostServices: [agentStore],
  badConfigs: [
    { name: "an unknown key", text: JSON.stringify({ ...serverData, region: "us-east-1" }), message: /^unable to decode configuration: .*region/ },
    { name: "an unknown partition", text: 'partition = "aws-eu"', message: 'invalid partition "aws-eu", must be one of: [aws aws-cn aws-us-gov]' },
    { name: "an access key without its secret", text: 'access_key_id = "AKID"', message: "configuration missing secret access key, but has access key id" },
    { name: "a broken agent path template", text: 'agent_path_template = "/{{ .InstanceID "', message: 'failed to parse agent svid template: "/{{ .InstanceID "' },
    { name: "an empty verify_organization", text: "verify_organization {}", message: /please ensure that "management_account_id" & "assume_org_role" are present/ },
    { name: "verify_organization through the Organizations API", text: 'verify_organization { management_account_id = "111111111111"\nassume_org_role = "r" }', message: /not supported by Signet's aws_iid/ },
    { name: "a missing account_list_file", text: `verify_organization { account_list_file = "${join(dir, "none.json")}" }`, message: `invalid "account_list_file" in the block: "verify_organization": unable to read account list file: open ${join(dir, "none.json")}: no such file or directory` },
    { name: "an org_account_map_ttl under a minute", text: `verify_organization { account_list_file = "${join(dir, "none.json")}"\norg_account_map_ttl = "30s" }`, message: /invalid "account_list_file"/ },
    { name: "validate_eks_cluster_membership", text: 'validate_eks_cluster_membership { eks_cluster_names = ["prod"] }', message: /validate_eks_cluster_membership is not supported/ },
    { name: "a missing certificate file", text: JSON.stringify({ signet_rsa2048_certificates: { [region]: join(dir, "none.pem") } }), message: /^unable to load signet_rsa2048_certificates for region "us-west-2"/ },
    { name: "agent and server settings at once", text: 'ec2_metadata_endpoint = "http://127.0.0.1:1"\nskip_block_device = true', message: /both present/ },
    { name: "an IMDS endpoint that is not a URL", text: 'ec2_metadata_endpoint = "169.254.169.254"', message: /is not a URL/ },
  ],
};
const agent: PluginUnderTest = { ...base, config: `ec2_metadata_endpoint = "${world.imds.url}"` };

const genuine = world.imds.identity;
const payload = (p: Partial<typeof genuine>) => encodeAttestationData({ ...genuine, ...p });
const flipBase64 = (b64: string, at: number) => {
  const der = Buffer.from(b64, "base64");
  der[at] = der[at]! ^ 0x10;
  return der.toString("base64");
};
const otherAws = new IidSigner("Impostor");
const otherInstance = world.identityOf({ ...identity, instanceId: "i-0bbbbbbbbbbbbbbbb" });
const rsa2048Der = Buffer.from(genuine.rsa2048, "base64");

registerWithVitest(lifecycleSuite(server), vitest);
registerWithVitest(
  nodeAttestorSuite(server, agent, {
    name: "aws_iid",
    challenges: false,
    badPayloads: [
      { name: "a forged RSA-2048 signature (a bit flipped in the RSA signature)", payload: payload({ rsa2048: flipBase64(genuine.rsa2048, rsa2048Der.length - 40) }) },
      { name: "a forged RSA-1024 signature", payload: payload({ rsa2048: "", signature: flipBase64(genuine.signature, 10) }) },
      { name: "the document re-signed by another key (PKCS #7)", payload: payload({ rsa2048: otherAws.signatureRsa2048(genuine.document) }) },
      { name: "the document re-signed by another key (RSA-1024)", payload: payload({ rsa2048: "", signature: otherAws.signatureRsa1024(genuine.document) }) },
      { name: "a truncated PKCS #7", payload: payload({ rsa2048: genuine.rsa2048.slice(0, 400) }) },
      { name: "another instance's genuine PKCS #7 with this document (content substitution)", payload: payload({ rsa2048: otherInstance.rsa2048 }) },
      { name: "this PKCS #7 with another instance's document (content substitution)", payload: payload({ document: otherInstance.document }) },
      {
        name: "a PKCS #7 whose content was swapped for another document under the original signed attributes",
        payload: payload({ document: otherInstance.document, rsa2048: world.signer.signatureRsa2048(otherInstance.document, { messageDigest: Buffer.alloc(32, 1) }) }),
      },
      { name: "no signature at all", payload: payload({ signature: "", rsa2048: "" }) },
      { name: "a replayed instance (already attested: TOFU)", payload: encodeAttestationData(world.identityOf({ ...identity, instanceId: replayedId })) },
    ],
    expectAttributes: (a) => {
      expect(a.spiffeId).toBe(`spiffe://example.org/spire/agent/aws_iid/${accountId}/${region}/${identity.instanceId}`);
      expect(a.selectorValues).toEqual([
        `account_id:${accountId}`,
        `az:${region}b`,
        `iamrole:${roleArn}`,
        `image:id:${imageId}`,
        `instance:id:${identity.instanceId}`,
        `region:${region}`,
        "sg:id:sg-0aaa",
        "sg:name:nodes",
        "tag:Name:node-1",
        "tag:team:blue",
      ]);
      expect(a.canReattest).toBe(false);
    },
  }),
  vitest,
);
