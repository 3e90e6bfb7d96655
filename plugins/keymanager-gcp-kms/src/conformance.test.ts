/**
 * The bundled plugin program against the conformance kit, over the real
 * protocol in real processes, talking to the fake Cloud KMS
 * (test/fakes/gcp/kms.ts) through the real client library: the launch
 * contract with good and bad configurations, then SPIRE's KeyManager suite on
 * the server's service, including a restart that must find every key again
 * by its labels.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@signet/plugin-sdk";
import { PluginHarness, type PluginUnderTest, keyManagerSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { FakeCloudKms } from "../../../test/fakes/gcp/kms.js";
import { writeServiceAccountFile } from "../../../test/fakes/gcp/service-account.js";

const [file, kms] = await Promise.all([buildPlugin(join(__dirname, "index.ts"), "keymanager-gcp-kms", "KeyManager"), FakeCloudKms.start()]);
afterAll(() => kms.stop());
const vitest = { describe, it, beforeAll, afterAll };

const dir = mkdtempSync(join(tmpdir(), "keymanager-gcp-kms-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const serviceAccountFile = writeServiceAccountFile(dir);

let rings = 0;
/** A configuration over a key ring of its own, so every process that needs a clean state gets one. */
const freshRing = () => kms.addKeyRing(`projects/signet-test/locations/global/keyRings/conformance-${++rings}`);
/** With a server ID file (a UUID: 36 of the 63 characters of a CryptoKey ID). */
const withIdFile = () => JSON.stringify({ key_ring: freshRing(), key_identifier_file: join(dir, `server-id-${rings}`), service_account_file: serviceAccountFile });
/** With a short server ID, leaving room for the suite's long key ids ("conformance-overwritten"). */
const withIdValue = () => `key_ring = "${freshRing()}"\nkey_identifier_value = "server-${rings}"\nservice_account_file = "${serviceAccountFile}"`;

const ring = "projects/p/locations/l/keyRings/r";
const base = { type: "KeyManager", file, sides: ["server"], env: { KMS_EMULATOR_HOST: kms.address } } as const;

const lifecycle: PluginUnderTest = {
  ...base,
  config: withIdFile,
  badConfigs: [
    { name: "no configuration", text: "", message: /^keymanager gcp_kms: configuration is missing the key ring$/ },
    { name: "no key identifier", text: `key_ring = "${ring}"`, message: "keymanager gcp_kms: configuration requires a key identifier file or a key identifier value" },
    {
      name: "both key identifier settings",
      text: JSON.stringify({ key_ring: ring, key_identifier_file: "/tmp/id", key_identifier_value: "a" }),
      message: "configuration can't have a key identifier file and a key identifier value at the same time",
    },
    { name: "an unknown key", text: JSON.stringify({ key_ring: ring, key_identifier_value: "a", keyring: ring }), message: /^keymanager gcp_kms: .*keyring/ },
    { name: "a key ring that is not a resource name", text: JSON.stringify({ key_ring: "my-ring", key_identifier_value: "a" }), message: /key_ring "my-ring" is not a key ring resource name/ },
    { name: "an upper-case key identifier", text: JSON.stringify({ key_ring: ring, key_identifier_value: "Server-A" }), message: /Key identifier must contain only lowercase letters/ },
    { name: "a key identifier too long", text: JSON.stringify({ key_ring: ring, key_identifier_value: "a".repeat(41) }), message: /must not be longer than 40 characters/ },
    { name: "the removed key_metadata_file", text: JSON.stringify({ key_ring: ring, key_metadata_file: "/tmp/m" }), message: /key_metadata_file is no longer supported/ },
    { name: "broken HCL", text: 'key_ring = "projects/p', message: /^keymanager gcp_kms: unable to decode configuration: / },
  ],
};

const server: PluginUnderTest = { ...base, config: withIdValue };

registerWithVitest(lifecycleSuite(lifecycle), vitest);
registerWithVitest(
  keyManagerSuite(server, {
    side: "server",
    persistent: true,
    // A Cloud KMS key signs one digest with one padding, fixed when it is made (as SPIRE's keys: PKCS #1 v1.5 with SHA-256 for RSA).
    unsupportedSignatureAlgorithms: {
      EC_P256: ["ECDSA-SHA384", "ECDSA-SHA512"],
      EC_P384: ["ECDSA-SHA256", "ECDSA-SHA512"],
      RSA_2048: ["SHA384-RSA", "SHA512-RSA", "SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS"],
      RSA_4096: ["SHA384-RSA", "SHA512-RSA", "SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS"],
    },
  }),
  vitest,
);

describe("Configure over the wire", () => {
  // PluginHarness takes a resolved plugin, and the kit does not export resolvePlugin: its defaults, spelled out.
  const harness = new PluginHarness({ ...server, node: true, args: [], configurable: true, trustDomain: "example.org", badConfigs: [], handshakeTimeoutMs: 60_000, callTimeoutMs: 30_000 });
  afterAll(() => harness.close());

  it("answers Internal with Cloud KMS's own status when the key ring cannot be listed, and works once it can; a reconfiguration keeps the keys", async () => {
    const session = await harness.launch({ configure: false });
    const config = withIdValue();
    kms.denied.add("cloudkms.cryptoKeys.list");
    try {
      await expect(session.configure(config)).rejects.toMatchObject({
        code: Code.INTERNAL,
        message: expect.stringMatching(/failed to list SPIRE Server keys in Cloud KMS: 7 PERMISSION_DENIED: Permission 'cloudkms.cryptoKeys.list' denied/),
      });
    } finally {
      kms.denied.clear();
    }
    await session.configure(config);
    const client = session.client(KeyManagerService);
    const { publicKey } = await client.generateKey({ keyId: "x509-CA-A", keyType: 1 });
    await session.configure(config);
    expect((await client.getPublicKeys({})).publicKeys).toEqual([publicKey]);
    const signed = await client.signData({ keyId: "x509-CA-A", data: Buffer.alloc(32, 7), signerOpts: { $case: "hashAlgorithm", value: 5 } });
    expect(signed.keyFingerprint).toBe(publicKey?.fingerprint);
    await session.stop();
  });
});
