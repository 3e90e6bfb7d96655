/**
 * The pure pieces: configuration parsing with SPIRE's keys and messages,
 * CryptoKey naming and labels, the server ID file, key_policy_file, where the
 * client connects, and CRC-32C.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";
import { crc32c, checksumMatches } from "./crc32c.js";
import { clientOptions } from "./kms-client.js";
import {
  activeKeysFilter,
  cryptoKeyId,
  cryptoKeyIdProblem,
  maxKeyIdentifierLength,
  newCryptoKeyLabels,
  spireKeyIdOf,
  staleKeysFilter,
  trustDomainHash,
} from "./naming.js";
import { readPolicyFile } from "./policy.js";
import { getOrCreateServerId } from "./server-id.js";

const dir = mkdtempSync(join(tmpdir(), "keymanager-gcp-kms-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ring = "projects/my-project/locations/us-east1/keyRings/spire";

describe("parseConfig", () => {
  it("reads SPIRE's keys, in HCL or JSON", async () => {
    expect(await parseConfig(`key_ring = "${ring}"\nkey_identifier_file = "/var/lib/spire/gcpkms-id"\nkey_policy_file = "/etc/spire/policy.json"`)).toEqual({
      keyRing: ring,
      keyIdentifier: { kind: "file", path: "/var/lib/spire/gcpkms-id" },
      keyPolicyFile: "/etc/spire/policy.json",
      serviceAccountFile: undefined,
    });
    expect(await parseConfig(JSON.stringify({ key_ring: ring, key_identifier_value: "server-1", service_account_file: "/sa.json" }))).toEqual({
      keyRing: ring,
      keyIdentifier: { kind: "value", value: "server-1" },
      keyPolicyFile: undefined,
      serviceAccountFile: "/sa.json",
    });
  });

  it("refuses what SPIRE refuses, with its messages, and what SPIRE would only fail on later, naming the key", async () => {
    const cases: Array<[string, RegExp | string]> = [
      ["", "keymanager gcp_kms: configuration is missing the key ring"],
      [`key_ring = "${ring}"`, "keymanager gcp_kms: configuration requires a key identifier file or a key identifier value"],
      [JSON.stringify({ key_ring: ring, key_identifier_file: "/f", key_identifier_value: "v" }), "configuration can't have a key identifier file and a key identifier value at the same time"],
      [JSON.stringify({ key_ring: ring, key_identifier_value: "Server_1" }), /Key identifier must contain only lowercase letters, numbers, underscores \(_\), and dashes \(-\)$/],
      [JSON.stringify({ key_ring: ring, key_identifier_value: "a".repeat(41) }), "Key identifier must not be longer than 40 characters"],
      [JSON.stringify({ key_ring: "projects/p/keyRings/r", key_identifier_value: "a" }), /key_ring "projects\/p\/keyRings\/r" is not a key ring resource name/],
      [JSON.stringify({ key_ring: ring, key_identifier_value: "a", region: "x" }), /^keymanager gcp_kms: unable to decode configuration: .*region/],
      [JSON.stringify({ key_ring: ring, key_metadata_file: "/m" }), "key_metadata_file is no longer supported (SPIRE removed it); use key_identifier_file"],
      [`key_ring = ["${ring}"]`, /^keymanager gcp_kms: unable to decode configuration: .*key_ring/],
    ];
    for (const [text, message] of cases) await expect(parseConfig(text), text).rejects.toThrow(message);
    expect(maxKeyIdentifierLength).toBe(40);
    await expect(parseConfig(JSON.stringify({ key_ring: ring, key_identifier_value: "a".repeat(40) }))).resolves.toBeDefined();
  });
});

describe("naming and labels", () => {
  const identity = { serverId: "1f2e225a-91d8-4589-a4fe-f88b7bb04bac", trustDomainHash: trustDomainHash("example.org") };

  it("names CryptoKeys spire-key-<server ID>-<key id> and reads the key id back for that server only", () => {
    const id = cryptoKeyId(identity.serverId, "x509-CA-A");
    expect(id).toBe("spire-key-1f2e225a-91d8-4589-a4fe-f88b7bb04bac-x509-CA-A");
    expect(spireKeyIdOf(`${ring}/cryptoKeys/${id}`, identity.serverId)).toBe("x509-CA-A");
    expect(spireKeyIdOf(`${ring}/cryptoKeys/spire-key-short-JWT-Signer-A`, "short")).toBe("JWT-Signer-A");
    expect(spireKeyIdOf(`${ring}/cryptoKeys/spire-key-other-x509-CA-A`, identity.serverId)).toBeUndefined();
    expect(spireKeyIdOf(`${ring}/cryptoKeys/spire-key-short-`, "short")).toBeUndefined();
    expect(cryptoKeyIdProblem(identity.serverId, "JWT-Signer-A")).toBeUndefined();
    expect(cryptoKeyIdProblem("a".repeat(40), "JWT-Signer-A")).toBeUndefined();
    expect(cryptoKeyIdProblem("a".repeat(41), "JWT-Signer-A")).toMatch(/would be 64 characters/);
  });

  it("labels with the SHA-1 of the trust domain, the server ID, activity and the last update, and filters on them", () => {
    expect(trustDomainHash("example.org")).toBe("20116dfd6774a9e7b32eddfea3f6cb094e38fc3f");
    expect(trustDomainHash("example.org")).not.toBe(trustDomainHash("example.com"));
    const now = new Date(Date.UTC(2026, 0, 15, 12));
    expect(newCryptoKeyLabels(identity, now)).toEqual({
      "spire-server-td": identity.trustDomainHash,
      "spire-server-id": identity.serverId,
      "spire-active": "true",
      "spire-last-update": String(now.getTime() / 1000),
    });
    expect(activeKeysFilter(identity)).toBe(`labels.spire-server-td = ${identity.trustDomainHash} AND labels.spire-server-id = ${identity.serverId} AND labels.spire-active = true`);
    expect(staleKeysFilter(identity, now)).toBe(
      `labels.spire-server-td = ${identity.trustDomainHash} AND labels.spire-server-id != ${identity.serverId} AND labels.spire-active = true AND labels.spire-last-update < ${now.getTime() / 1000 - 14 * 24 * 3600}`,
    );
  });
});

describe("key_identifier_file", () => {
  it("creates the file with a new UUID (mode 0600) and reads the same ID back", async () => {
    const path = join(dir, "server-id");
    const id = await getOrCreateServerId(path);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(readFileSync(path, "utf8")).toBe(id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await getOrCreateServerId(path)).toBe(id);
  });

  it("reads IDs as Go's uuid.FromString does (upper case, no dashes, braces), forgives a trailing newline, refuses the rest", async () => {
    const path = join(dir, "server-id-forms");
    for (const text of ["1F2E225A-91D8-4589-A4FE-F88B7BB04BAC", "1f2e225a91d84589a4fef88b7bb04bac", "{1f2e225a-91d8-4589-a4fe-f88b7bb04bac}", "1f2e225a-91d8-4589-a4fe-f88b7bb04bac\n"]) {
      writeFileSync(path, text);
      expect(await getOrCreateServerId(path), text).toBe("1f2e225a-91d8-4589-a4fe-f88b7bb04bac");
    }
    writeFileSync(path, "server-1");
    await expect(getOrCreateServerId(path)).rejects.toThrow(/^failed to parse server ID from path: .* does not hold a UUID$/);
    mkdirSync(join(dir, "a-directory"));
    await expect(getOrCreateServerId(join(dir, "a-directory"))).rejects.toThrow(/^failed to read server ID from path: .*EISDIR/);
    await expect(getOrCreateServerId(join(dir, "missing", "server-id"))).rejects.toThrow(/^failed to persist server ID on path: .*ENOENT/);
  });
});

describe("key_policy_file", () => {
  it("reads an IAM policy v3 in JSON, field names in any case, conditions included", async () => {
    const path = join(dir, "policy.json");
    writeFileSync(
      path,
      JSON.stringify({
        Bindings: [
          { role: "roles/cloudkms.signerVerifier", members: ["serviceAccount:spire@p.iam.gserviceaccount.com"] },
          { Role: "roles/cloudkms.viewer", Members: ["group:ops@example.org"], condition: { title: "t", expression: "request.time < timestamp('2030-01-01T00:00:00Z')" } },
        ],
        version: 3,
      }),
    );
    expect(await readPolicyFile(path)).toEqual({
      bindings: [
        { role: "roles/cloudkms.signerVerifier", members: ["serviceAccount:spire@p.iam.gserviceaccount.com"] },
        { role: "roles/cloudkms.viewer", members: ["group:ops@example.org"], condition: { title: "t", expression: "request.time < timestamp('2030-01-01T00:00:00Z')", description: undefined, location: undefined } },
      ],
    });
  });

  it("refuses an unreadable file or one that is not a policy", async () => {
    const path = join(dir, "bad-policy.json");
    await expect(readPolicyFile(join(dir, "none.json"))).rejects.toThrow(/^failed to read file: .*ENOENT/);
    for (const [text, message] of [
      ["{", /^failed to parse custom JSON policy: /],
      ["[]", /expected a JSON object/],
      ['{"bindings": [{"members": ["x"]}]}', /binding 0 has no role/],
      ['{"bindings": [{"role": "r", "members": "x"}]}', /"members" must be an array of strings/],
    ] as const) {
      writeFileSync(path, text);
      await expect(readPolicyFile(path), text).rejects.toThrow(message);
    }
  });
});

describe("where the client connects", () => {
  it("uses Google's endpoint with the service account file or ADC, and KMS_EMULATOR_HOST in plaintext when set", () => {
    expect(clientOptions({ env: {} })).toEqual({});
    expect(clientOptions({ serviceAccountFile: "/sa.json", env: {} })).toEqual({ keyFilename: "/sa.json" });
    const emulated = clientOptions({ serviceAccountFile: "/sa.json", env: { KMS_EMULATOR_HOST: "localhost:9011" } })!;
    expect(emulated).toMatchObject({ keyFilename: "/sa.json", apiEndpoint: "localhost", port: 9011, universeDomain: "googleapis.com" });
    expect(emulated.sslCreds?._isSecure()).toBe(false);
    expect(clientOptions({ env: { KMS_EMULATOR_HOST: "[::1]:9011" } })).toMatchObject({ apiEndpoint: "::1", port: 9011 });
    for (const bad of ["localhost", ":9011", "localhost:http", "localhost:70000"]) {
      expect(() => clientOptions({ env: { KMS_EMULATOR_HOST: bad } }), bad).toThrow(`KMS_EMULATOR_HOST ${JSON.stringify(bad)} is not host:port`);
    }
  });
});

describe("crc32c", () => {
  it("is CRC-32C (Castagnoli), and checksums compare as the client library decodes them", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(checksumMatches({ value: "3808858755" }, 0xe3069283)).toBe(true);
    expect(checksumMatches({ value: 3808858755 }, 0xe3069283)).toBe(true);
    expect(checksumMatches({ value: { toString: () => "3808858755" } }, 0xe3069283)).toBe(true);
    expect(checksumMatches({ value: "1" }, 0xe3069283)).toBe(false);
    expect(checksumMatches(null, 0)).toBe(false);
    expect(checksumMatches({}, 0)).toBe(false);
  });
});
