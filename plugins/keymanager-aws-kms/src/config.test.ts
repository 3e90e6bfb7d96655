import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PluginError } from "@signet/plugin-sdk";
import { parseConfig } from "./config.js";
import { Names, decodeKeyId, encodeKeyId } from "./names.js";
import { getOrCreateServerId } from "./server-id.js";

const root = mkdtempSync(join(tmpdir(), "keymanager-aws-kms-config-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("parseConfig", () => {
  it("takes SPIRE's keys in HCL and JSON", async () => {
    const hcl = await parseConfig(`
      region = "us-east-2"
      key_identifier_file = "/var/lib/spire/key_metadata"
      key_policy_file = "/etc/spire/policy.json"
      access_key_id = "AKID"
      secret_access_key = "secret"
      key_tags = {
        Environment = "production"
        Team = "security"
      }
    `);
    expect(hcl).toEqual({
      region: "us-east-2",
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      identity: { kind: "file", path: "/var/lib/spire/key_metadata" },
      keyPolicyFile: "/etc/spire/policy.json",
      keyTags: [
        ["Environment", "production"],
        ["Team", "security"],
      ],
      tagBasedKeyDiscovery: false,
    });
    expect(await parseConfig('{"region": "eu-west-1", "key_identifier_value": "server/a_1-b"}')).toEqual({
      region: "eu-west-1",
      identity: { kind: "value", serverId: "server/a_1-b" },
      keyTags: [],
      tagBasedKeyDiscovery: false,
    });
  });

  it("refuses what SPIRE refuses, naming the key", async () => {
    const refusals: Array<[string, RegExp]> = [
      ["", /^keymanager aws_kms: configuration is missing a region$/],
      ['region = ""\nkey_identifier_value = "x"', /missing a region/],
      ['region = "r"', /requires a key identifier file or a key identifier value \(key_identifier_file or key_identifier_value\)/],
      ['region = "r"\nkey_identifier_file = "/f"\nkey_identifier_value = "x"', /can't have a key identifier file and a key identifier value at the same time/],
      ['region = "r"\nkey_identifier_value = "a.b"', /key_identifier_value: Key identifier must contain only alphanumeric characters/],
      ['region = "r"\nkey_identifier_value = "a[b"', /key_identifier_value: Key identifier must contain only/],
      ['region = "r"\nkey_identifier_value = "alias/aws/x"', /key_identifier_value: Key identifier must not start with alias\/aws\//],
      [`region = "r"\nkey_identifier_value = "${"a".repeat(257)}"`, /key_identifier_value: Key identifier must not be longer than 256 characters/],
      ['region = "r"\nkey_identifier_value = "x"\naccess_key_id = "AKID"', /access_key_id is set but secret_access_key is not/],
      ['region = "r"\nkey_identifier_value = "x"\nsecret_access_key = "s"', /secret_access_key is set but access_key_id is not/],
      ['region = "r"\nkey_identifier_value = "x"\nkey_tags = { "aws:x" = "y" }', /key_tags\): tag key "aws:x" uses reserved prefix 'aws:'/],
      ['region = "r"\nkey_identifier_value = "x"\nkey_tags = { "SPIRE-x" = "y" }', /reserved prefix 'spire-'/],
      ['region = "r"\nkey_identifier_value = "x"\nkey_tags = { "a#b" = "y" }', /tag key "a#b" contains invalid characters/],
      ['region = "r"\nkey_identifier_value = "x"\nkey_tags = { "a" = "y!" }', /tag value for key "a" contains invalid characters/],
      [JSON.stringify({ region: "r", key_identifier_value: "x", key_tags: { [`${"k".repeat(129)}`]: "v" } }), /exceeds maximum length of 128 characters/],
      [JSON.stringify({ region: "r", key_identifier_value: "x", key_tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) }), /too many tags: 51/],
      ['region = "r"\nkey_identifier_value = "x"\nenable_tag_based_key_discovery = true', /^keymanager aws_kms: enable_tag_based_key_discovery: .*not supported/],
      ['region = "r"\nkey_identifier_value = "x"\nkey_identifer_file = "/f"', /^keymanager aws_kms: unable to decode configuration: .*key_identifer_file/],
      ['{"region": {"a": 1}}', /^keymanager aws_kms: unable to decode configuration: .*region/],
    ];
    for (const [text, message] of refusals) await expect(parseConfig(text), text).rejects.toThrow(message);
  });

  it("accepts every character AWS allows in tags, and an empty value", async () => {
    const config = await parseConfig(JSON.stringify({ region: "r", key_identifier_value: "x", key_tags: { "Ünïcode key +-=._:/@ 1": "", k: "v a+l=u.e_:/@-" } }));
    expect(config.keyTags).toHaveLength(2);
  });
});

describe("Names", () => {
  const names = new Names("example.org", "4f6c2d3a-0000-4000-8000-000000000001");

  it("names aliases and descriptions byte for byte as SPIRE does", () => {
    expect(names.alias("x509-CA-A")).toBe("alias/SPIRE_SERVER/example_org/4f6c2d3a-0000-4000-8000-000000000001/x509-CA-A");
    expect(names.alias("JWT-Signer.v1+b")).toBe("alias/SPIRE_SERVER/example_org/4f6c2d3a-0000-4000-8000-000000000001/JWT-Signer_2ev1_2bb");
    expect(names.description("x509-CA-A")).toBe("SPIRE_SERVER_KEY/example_org/x509-CA-A");
    expect(encodeKeyId("a.b+c.d")).toBe("a_2eb_2bc_2ed");
    expect(decodeKeyId(encodeKeyId("a.b+c.d"))).toBe("a.b+c.d");
  });

  it("reads back only this server's aliases", () => {
    expect(names.spireKeyIdOf(names.alias("JWT-Signer.v1"))).toBe("JWT-Signer.v1");
    expect(names.spireKeyIdOf("alias/SPIRE_SERVER/example_org/other-server/x509-CA-A")).toBeUndefined();
    expect(names.spireKeyIdOf("alias/SPIRE_SERVER/example_org/4f6c2d3a-0000-4000-8000-0000000000012/x509-CA-A"), "a server id that merely starts with ours").toBeUndefined();
    expect(names.spireKeyIdOf("alias/SPIRE_SERVER/example_org/4f6c2d3a-0000-4000-8000-000000000001/")).toBeUndefined();
    expect(names.spireKeyIdOf("alias/aws/ebs")).toBeUndefined();
    expect(names.trustDomainAliasPrefix()).toBe("alias/SPIRE_SERVER/example_org/");
    expect(names.trustDomainDescriptionPrefix()).toBe("SPIRE_SERVER_KEY/example_org/");
  });
});

describe("getOrCreateServerId", () => {
  it("creates the file with a UUID (mode 0600) and reads the same id back", async () => {
    const path = join(root, "key_metadata");
    const id = await getOrCreateServerId(path);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(readFileSync(path, "utf8")).toBe(id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await getOrCreateServerId(path)).toBe(id);
  });

  it("reads a UUID written by hand (upper case, trailing newline) as SPIRE would print it", async () => {
    const path = join(root, "by-hand");
    writeFileSync(path, "6BA7B810-9DAD-11D1-80B4-00C04FD430C8\n");
    expect(await getOrCreateServerId(path)).toBe("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  });

  it("refuses a file that does not hold a UUID, and a path it cannot write, as Internal", async () => {
    const path = join(root, "garbage");
    writeFileSync(path, "not-a-uuid");
    const e = await getOrCreateServerId(path).catch((x: unknown) => x as PluginError);
    expect(e).toBeInstanceOf(PluginError);
    expect((e as PluginError).kind).toBe("internal");
    expect((e as PluginError).message).toMatch(/^failed to parse server id from path: /);
    await expect(getOrCreateServerId(join(root, "missing-dir", "id"))).rejects.toThrow(/^failed to persist server id on path: .*ENOENT/);
    expect(readFileSync(path, "utf8"), "the file is left as it was").toBe("not-a-uuid");
  });
});
