/**
 * The pure parts: configuration (SPIRE's keys, defaults and messages), the payload codec (Go's
 * JSON), selectors, instance profile ARNs, the agent ID template, the block device check and
 * the organization's account list.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance } from "@aws-sdk/client-ec2";
import { afterAll, describe, expect, it } from "vitest";
import { TrustDomain } from "@signet/spiffe";
import { makeAgentId } from "./agent-id.js";
import { blockDeviceProblem } from "./block-device.js";
import { defaultAgentPathTemplate, parseConfig, parseGoDuration } from "./config.js";
import { OrganizationValidator } from "./organization.js";
import { decodeAttestationData, encodeAttestationData, maxPayloadBytes } from "./payload.js";
import { documentSelectors, instanceProfileNameFromArn, instanceProfileSelectors, securityGroupSelectors, sortedUnique, tagSelectors } from "./selectors.js";
import { AgentPathTemplate } from "@signet/plugin-sdk";

const dir = mkdtempSync(join(tmpdir(), "aws-iid-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noEnv = {};

describe("configuration", () => {
  it("an empty configuration configures both halves with SPIRE's defaults", async () => {
    for (const text of ["", "{}"]) {
      const c = await parseConfig(text, "example.org", noEnv);
      expect(c.agent).toEqual({ ec2MetadataEndpoint: "" });
      expect(c.server).toMatchObject({ partition: "aws", assumeRole: "", skipBlockDevice: false, disableInstanceProfileSelectors: false, localValidAccountIds: [], templateUsesTags: false });
      expect(c.server!.credentials).toBeUndefined();
      expect(c.server!.pathTemplate.text).toBe(defaultAgentPathTemplate);
    }
  });

  it("the agent's key configures only the agent, server keys only the server", async () => {
    expect(await parseConfig('ec2_metadata_endpoint = "http://169.254.169.254/latest"', "example.org", noEnv)).toEqual({ agent: { ec2MetadataEndpoint: "http://169.254.169.254/latest" } });
    const s = await parseConfig('skip_block_device = true\npartition = "aws-cn"\nagent_path_template = "/{{ .Tags.name }}"', "example.org", noEnv);
    expect(s.agent).toBeUndefined();
    expect(s.server).toMatchObject({ skipBlockDevice: true, partition: "aws-cn", templateUsesTags: true });
  });

  it("credentials come from the configuration, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, as SPIRE", async () => {
    expect((await parseConfig('access_key_id = "A"\nsecret_access_key = "S"', "example.org", noEnv)).server!.credentials).toEqual({ accessKeyId: "A", secretAccessKey: "S" });
    expect((await parseConfig('access_key_id = "A"', "example.org", { AWS_SECRET_ACCESS_KEY: "E" })).server!.credentials).toEqual({ accessKeyId: "A", secretAccessKey: "E" });
    await expect(parseConfig('secret_access_key = "S"', "example.org", noEnv)).rejects.toThrow("configuration missing access key id, but has secret access key");
  });

  it("verify_organization reads the account list file and its TTL", async () => {
    const file = join(dir, "accounts.json");
    writeFileSync(file, '["111111111111"]');
    expect((await parseConfig(`verify_organization { account_list_file = "${file}"\norg_account_map_ttl = "15m" }`, "example.org", noEnv)).server!.organization).toEqual({ accountListFile: file, ttlMs: 900_000 });
    await expect(parseConfig(`verify_organization { account_list_file = "${file}"\nassume_org_role = "r" }`, "example.org", noEnv)).rejects.toThrow(
      '"account_list_file" is mutually exclusive with "management_account_id" and "assume_org_role" in the block: "verify_organization"',
    );
    await expect(parseConfig(`verify_organization { account_list_file = "${file}"\norg_account_map_ttl = "30s" }`, "example.org", noEnv)).rejects.toThrow(/greater than or equal to "1m"/);
    await expect(parseConfig(`verify_organization { account_list_file = "${file}"\norg_account_map_ttl = "soon" }`, "example.org", noEnv)).rejects.toThrow(/should be in duration/);
    writeFileSync(file, '["12345"]');
    await expect(parseConfig(`verify_organization { account_list_file = "${file}" }`, "example.org", noEnv)).rejects.toThrow(`invalid account id "12345" in account list file "${file}", expected a 12-digit AWS account id`);
    writeFileSync(file, '{"a": 1}');
    await expect(parseConfig(`verify_organization { account_list_file = "${file}" }`, "example.org", noEnv)).rejects.toThrow("json: cannot unmarshal object into Go value of type []string");
  });

  it("Go durations", () => {
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("1.5m")).toBe(90_000);
    expect(parseGoDuration("5")).toBeUndefined();
  });
});

describe("the payload (SPIRE's caws.IIDAttestationData, Go's encoding/json)", () => {
  it("encodes as Go's json.Marshal does, and reads it back", () => {
    const data = { document: '{"a":"<&>"}', signature: "sig\n", rsa2048: "p7" };
    const bytes = encodeAttestationData(data);
    expect(bytes.toString()).toBe('{"document":"{\\"a\\":\\"\\u003c\\u0026\\u003e\\"}","signature":"sig\\n","rsa2048":"p7"}');
    expect(decodeAttestationData(bytes)).toEqual(data);
  });

  it("reads keys case-insensitively, ignores unknown ones, and refuses with Go's messages", () => {
    expect(decodeAttestationData(Buffer.from('{"Document":"d","RSA2048":"r","extra":1,"signature":null}'))).toEqual({ document: "d", signature: "", rsa2048: "r" });
    expect(decodeAttestationData(Buffer.from("null"))).toEqual({ document: "", signature: "", rsa2048: "" });
    expect(() => decodeAttestationData(Buffer.from("[]"))).toThrow("json: cannot unmarshal array into Go value of type aws.IIDAttestationData");
    expect(() => decodeAttestationData(Buffer.from('{"document":1}'))).toThrow("json: cannot unmarshal number into Go struct field IIDAttestationData.document of type string");
    expect(() => decodeAttestationData(Buffer.from('{"document"'))).toThrow("unexpected end of JSON input");
    expect(() => decodeAttestationData(Buffer.alloc(maxPayloadBytes + 1, 0x20))).toThrow(/larger than/);
  });
});

describe("selectors and the agent ID", () => {
  const doc = { accountId: "123456789012", region: "us-west-2", availabilityZone: "us-west-2b", instanceId: "i-1", imageId: "ami-1" };

  it("SPIRE's selector values, sorted bytewise and deduplicated", () => {
    const values = [
      ...tagSelectors([{ Key: "b", Value: "2" }, { Key: "B", Value: "1" }, { Key: "b", Value: "2" }, { Key: "nokey" }]),
      ...securityGroupSelectors([{ GroupId: "sg-1", GroupName: "web" }]),
      ...instanceProfileSelectors({ Roles: [{ Arn: "arn:aws:iam::1:role/r", RoleName: "r", Path: "/", RoleId: "x", CreateDate: new Date() }] } as never),
      ...documentSelectors(doc),
    ];
    expect(sortedUnique(values)).toEqual([
      "account_id:123456789012",
      "az:us-west-2b",
      "iamrole:arn:aws:iam::1:role/r",
      "image:id:ami-1",
      "instance:id:i-1",
      "region:us-west-2",
      "sg:id:sg-1",
      "sg:name:web",
      "tag:B:1",
      "tag:b:2",
      "tag:nokey:",
    ]);
  });

  it("instance profile names from ARNs, paths included", () => {
    expect(instanceProfileNameFromArn("arn:aws:iam::123456789012:instance-profile/a/b/name")).toBe("name");
    expect(instanceProfileNameFromArn("arn:aws-cn:iam::123456789012:instance-profile/name")).toBe("name");
    expect(() => instanceProfileNameFromArn("iam::1:instance-profile/x")).toThrow("failed to parse arn: invalid prefix");
    expect(() => instanceProfileNameFromArn("arn:aws:iam")).toThrow("failed to parse arn: not enough sections");
    expect(() => instanceProfileNameFromArn("arn:aws:iam::1:role/x")).toThrow("arn is not for an instance profile");
  });

  it("the default template, .Tags, and SPIRE's refusals", () => {
    const td = TrustDomain.parse("example.org");
    const tags = new Map([["env", "prod"]]);
    expect(makeAgentId(td, AgentPathTemplate.parse(defaultAgentPathTemplate), doc, tags).toString()).toBe("spiffe://example.org/spire/agent/aws_iid/123456789012/us-west-2/i-1");
    expect(makeAgentId(td, AgentPathTemplate.parse("/{{ .PluginName }}/{{ .Tags.env }}/{{ .InstanceID | upper }}"), doc, tags).toString()).toBe("spiffe://example.org/spire/agent/aws_iid/prod/I-1");
    expect(() => makeAgentId(td, AgentPathTemplate.parse("/{{ .Tags.team }}"), doc, tags)).toThrow('map has no entry for key "team"');
    expect(() => makeAgentId(td, AgentPathTemplate.parse("{{ .InstanceID }}"), doc, tags)).toThrow('invalid agent path suffix "i-1"');
    expect(() => makeAgentId(td, AgentPathTemplate.parse("/{{ .Nope }}"), doc, tags)).toThrow("can't evaluate field Nope in type awsiid.agentPathTemplateData");
  });
});

describe("the block device check", () => {
  const at = (s: number) => new Date(Date.UTC(2024, 4, 1, 10, 0, s));
  const instance = (root: number, net: number, extra: Partial<Instance> = {}): Instance => ({
    RootDeviceType: "ebs",
    RootDeviceName: "/dev/xvda",
    BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { AttachTime: at(500) } }, { DeviceName: "/dev/xvda", Ebs: { AttachTime: at(root) } }],
    NetworkInterfaces: [{ Attachment: { DeviceIndex: 1, AttachTime: at(900) } }, { Attachment: { DeviceIndex: 0, AttachTime: at(net) } }],
    ...extra,
  });

  it("allows 60 s between the root volume and network interface 0, not 61", () => {
    expect(blockDeviceProblem(instance(60, 0))).toBeUndefined();
    expect(blockDeviceProblem(instance(0, 61))).toBe("failed checking the disparity device attach times, root BlockDeviceMapping and NetworkInterface[0] attach times differ by 61 seconds");
  });

  it("skips instance-store roots, and refuses instances it cannot check", () => {
    expect(blockDeviceProblem(instance(0, 999, { RootDeviceType: "instance-store" }))).toBeUndefined();
    expect(blockDeviceProblem(instance(0, 0, { NetworkInterfaces: [] }))).toBe("the EC2 instance network interface with device index 0 is inaccessible");
    expect(blockDeviceProblem(instance(0, 0, { RootDeviceName: "/dev/sda1" }))).toBe('failed to locate the root device block mapping with name "/dev/sda1"');
  });
});

describe("the organization's account list", () => {
  it("caches for the TTL, re-reads on a miss, and fails closed when the file goes bad", async () => {
    const file = join(dir, "org.json");
    writeFileSync(file, '["111111111111"]');
    let now = 0;
    const org = new OrganizationValidator({ accountListFile: file, ttlMs: 60_000 }, () => now);
    expect(await org.isMemberAccount("111111111111")).toBe(true);
    writeFileSync(file, '["111111111111", "222222222222"]');
    expect(await org.isMemberAccount("222222222222")).toBe(true); // a miss re-reads
    writeFileSync(file, "garbage");
    expect(await org.isMemberAccount("111111111111")).toBe(true); // cached
    now = 61_000;
    await expect(org.isMemberAccount("111111111111")).rejects.toThrow(/^failed to load org account list: unable to parse account list file/);
  });
});
