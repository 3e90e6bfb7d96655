/**
 * The bundled plugin program against the conformance kit, talking to the
 * KMS fake through the real AWS SDK (endpoint from AWS_ENDPOINT_URL, static
 * credentials from the configuration): the launch contract with good and bad
 * configurations, then SPIRE's KeyManager suite on the server's service,
 * including a restart that must find every key again through its alias.
 *
 * Left out of the suite: RSA PSS, which KMS signs with a salt as long as the
 * hash while the suite also asks for 0 (as long as possible) and 20 bytes;
 * keymanager.test.ts checks PSS with the lengths KMS honours.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PluginUnderTest, keyManagerSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { FakeKms } from "../../../test/fakes/aws/kms.js";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "keymanager-aws-kms", "KeyManager");
const kms = await FakeKms.start({ pregenerate: { RSA_4096: 4, RSA_2048: 4 } });
const vitest = { describe, it, beforeAll, afterAll };

const root = mkdtempSync(join(tmpdir(), "keymanager-aws-kms-conformance-"));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await kms.close();
});

const policyFile = join(root, "policy.json");
writeFileSync(policyFile, JSON.stringify({ Version: "2012-10-17", Statement: [] }));

let made = 0;
/** Every process that needs a clean state gets its own server id, hence its own aliases. */
const config = () =>
  JSON.stringify({
    region: kms.region,
    access_key_id: "AKIDEXAMPLE",
    secret_access_key: "secret",
    key_identifier_value: `conformance-${process.pid}-${++made}`,
  });

const base = {
  type: "KeyManager",
  file,
  sides: ["server"],
  env: {
    AWS_ENDPOINT_URL: kms.url,
    // Nothing of this machine's AWS setup may leak in.
    AWS_CONFIG_FILE: join(root, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(root, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  },
} as const;

const lifecycle: PluginUnderTest = {
  ...base,
  config: () => JSON.stringify({ ...JSON.parse(config()), key_policy_file: policyFile }),
  badConfigs: [
    { name: "no configuration", text: "", message: /^keymanager aws_kms: configuration is missing a region$/ },
    { name: "no key identifier", text: 'region = "us-east-2"', message: /configuration requires a key identifier file or a key identifier value/ },
    {
      name: "both key identifiers",
      text: 'region = "us-east-2"\nkey_identifier_file = "/tmp/id"\nkey_identifier_value = "x"',
      message: /can't have a key identifier file and a key identifier value at the same time/,
    },
    { name: "a key identifier with a dot", text: '{"region": "us-east-2", "key_identifier_value": "a.b"}', message: /key_identifier_value: Key identifier must contain only alphanumeric/ },
    { name: "an unknown key", text: '{"region": "us-east-2", "key_identifier_value": "x", "key_identifer_file": "/tmp/id"}', message: /^keymanager aws_kms: .*key_identifer_file/ },
    { name: "a reserved tag", text: 'region = "us-east-2"\nkey_identifier_value = "x"\nkey_tags = { "spire-x" = "y" }', message: /key_tags.*reserved prefix 'spire-'/ },
    { name: "only an access key id", text: '{"region": "us-east-2", "key_identifier_value": "x", "access_key_id": "AKID"}', message: /access_key_id is set but secret_access_key is not/ },
    { name: "broken HCL", text: "region = \"us-east-2", message: /^keymanager aws_kms: unable to decode configuration/ },
  ],
};

const server: PluginUnderTest = { ...base, config };

registerWithVitest(lifecycleSuite(lifecycle), vitest);
registerWithVitest(
  keyManagerSuite(server, {
    side: "server",
    persistent: true,
    unsupportedSignatureAlgorithms: {
      RSA_2048: ["SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS"],
      RSA_4096: ["SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS"],
    },
  }),
  vitest,
);
