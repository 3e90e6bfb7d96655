/**
 * The key manager's domain over the real Cloud KMS client and the fake Cloud
 * KMS (test/fakes/gcp/kms.ts): what it creates in the key ring (names,
 * labels, algorithms, IAM policies), signing with integrity checks, key
 * versions on rotation, finding keys again at Configure, and how Cloud KMS
 * failures come out.
 */
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyManagerError, KeyType, type PublicKeyInfo } from "@signet/plugin-sdk";
import { ManualClock } from "../../../test/fakes/clock.js";
import { FakeCloudKms } from "../../../test/fakes/gcp/kms.js";
import { writeServiceAccountFile } from "../../../test/fakes/gcp/service-account.js";
import { openKeyManager } from "./configure.js";
import { fetchKeyEntries } from "./fetcher.js";
import type { GcpKmsKeyManager } from "./keymanager.js";
import { type Kms, deadlineIn } from "./kms-client.js";
import { trustDomainHash } from "./naming.js";
import { identityOf, kmsFor, managerFor, recordingLogger, testTrustDomain } from "./testing/support.js";

const SHA256 = 5;
const SHA384 = 6;
const email = "spire-server@signet-test.iam.gserviceaccount.com";

let fake: FakeCloudKms;
let kms: Kms;
let dir: string;
let serviceAccountFile: string;
beforeAll(async () => {
  fake = await FakeCloudKms.start();
  dir = mkdtempSync(join(tmpdir(), "keymanager-gcp-kms-test-"));
  serviceAccountFile = writeServiceAccountFile(dir, email);
  kms = kmsFor(fake, serviceAccountFile);
});
afterAll(async () => {
  await kms.close();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

let rings = 0;
const freshRing = () => fake.addKeyRing(`projects/signet-test/locations/us-east1/keyRings/unit-${++rings}`);
const clock = new ManualClock(Date.UTC(2026, 2, 1));

function manager(keyRing = freshRing(), serverId = "server-a", more: Partial<Parameters<typeof managerFor>[0]> = {}): GcpKmsKeyManager {
  return managerFor({ kms, clock, keyRing, serverId, ...more });
}

async function rejection(p: Promise<unknown>): Promise<KeyManagerError> {
  const e = await p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(KeyManagerError);
  return e as KeyManagerError;
}

async function signsVerifiably(km: GcpKmsKeyManager, key: PublicKeyInfo, hash: "sha256" | "sha384"): Promise<boolean> {
  const message = randomBytes(48);
  const digest = createHash(hash).update(message).digest();
  const { signature, keyFingerprint } = await km.signData(key.id, digest, { kind: "hash", hashAlgorithm: hash === "sha256" ? SHA256 : SHA384 });
  const publicKey = createPublicKey({ key: key.pkixData, format: "der", type: "spki" });
  return keyFingerprint === key.fingerprint && verify(hash, message, publicKey, signature);
}

describe("GenerateKey", () => {
  it("creates a CryptoKey named spire-key-<server ID>-<key id>, labelled for the server and trust domain, with the key type's algorithm", async () => {
    const ring = freshRing();
    const km = manager(ring);
    const key = await km.generateKey("x509-CA-A", KeyType.EC_P384);
    const [created] = fake.keysIn(ring);
    expect(created?.name).toBe(`${ring}/cryptoKeys/spire-key-server-a-x509-CA-A`);
    expect(created?.algorithm).toBe("EC_SIGN_P384_SHA384");
    expect(created?.labels).toEqual({
      "spire-server-td": createHash("sha1").update(testTrustDomain).digest("hex"),
      "spire-server-id": "server-a",
      "spire-active": "true",
      "spire-last-update": String(Math.floor(clock.now().getTime() / 1000)),
    });
    expect(key.type).toBe(KeyType.EC_P384);
    expect(key.pkixData.equals(createPublicKey(created!.versions[0]!.privateKey).export({ type: "spki", format: "der" }))).toBe(true);
    expect(key.fingerprint).toBe(createHash("sha256").update(key.pkixData).digest("hex"));
    expect(km.getPublicKey("x509-CA-A")).toEqual(key);
  });

  it("maps every key type to SPIRE's algorithm, and the keys sign what their algorithm signs", async () => {
    const km = manager();
    const ec256 = await km.generateKey("ec256", KeyType.EC_P256);
    const ec384 = await km.generateKey("ec384", KeyType.EC_P384);
    const rsa = await km.generateKey("rsa2048", KeyType.RSA_2048);
    expect(await signsVerifiably(km, ec256, "sha256")).toBe(true);
    expect(await signsVerifiably(km, ec384, "sha384")).toBe(true);
    expect(await signsVerifiably(km, rsa, "sha256")).toBe(true);
    expect(km.getPublicKeys().map((k) => k.id)).toEqual(["ec256", "ec384", "rsa2048"]);
    const algorithms = fake.callsOf("CreateCryptoKey").slice(-3).map((r) => (r["cryptoKey"] as { versionTemplate: { algorithm: string } }).versionTemplate.algorithm);
    expect(algorithms).toEqual(["EC_SIGN_P256_SHA256", "EC_SIGN_P384_SHA384", "RSA_SIGN_PKCS1_2048_SHA256"]);
  });

  it("sets the default IAM policy: the signer/verifier role for the service account the client runs as", async () => {
    const ring = freshRing();
    await manager(ring).generateKey("k", KeyType.EC_P256);
    const policy = fake.keysIn(ring)[0]!.policy;
    expect(policy.version).toBe(3);
    expect(policy.bindings).toEqual([{ role: "roles/cloudkms.signerVerifier", members: [`serviceAccount:${email}`], condition: null }]);
    const asked = fake.callsOf("GetIamPolicy").at(-1) as { options: { requestedPolicyVersion: number } };
    expect(asked.options.requestedPolicyVersion).toBe(3);
  });

  it("sets key_policy_file's policy instead, with its conditions", async () => {
    const ring = freshRing();
    const custom = { bindings: [{ role: "roles/cloudkms.signer", members: ["group:spire@example.org"], condition: { expression: "true", title: "always" } }] };
    await manager(ring, "server-a", { customPolicy: custom }).generateKey("k", KeyType.EC_P256);
    const policy = fake.keysIn(ring)[0]!.policy;
    expect(policy.bindings).toHaveLength(1);
    expect(policy.bindings[0]).toMatchObject({ role: "roles/cloudkms.signer", members: ["group:spire@example.org"], condition: { expression: "true", title: "always" } });
  });

  it("replaces a key by adding a version to its CryptoKey, switching the algorithm when the type changes, and queues the old version for destruction", async () => {
    const ring = freshRing();
    const km = manager(ring);
    const first = await km.generateKey("JWT-Signer-A", KeyType.EC_P256);
    const second = await km.generateKey("JWT-Signer-A", KeyType.EC_P384);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.type).toBe(KeyType.EC_P384);
    const [key] = fake.keysIn(ring);
    expect(fake.keysIn(ring)).toHaveLength(1);
    expect(key!.algorithm).toBe("EC_SIGN_P384_SHA384");
    expect(key!.versions.map((v) => [v.name.slice(-1), v.algorithm])).toEqual([
      ["1", "EC_SIGN_P256_SHA256"],
      ["2", "EC_SIGN_P384_SHA384"],
    ]);
    expect(km.destroyQueue.size).toBe(1);
    expect(await km.destroy(`${key!.name}/cryptoKeyVersions/1`)).toBe("done");
    expect(key!.versions[0]!.state).toBe("DESTROY_SCHEDULED");
    expect(await signsVerifiably(km, second, "sha384")).toBe(true);
    // Same type again: no algorithm update, one more version.
    const updates = fake.callsOf("UpdateCryptoKey").length;
    await km.generateKey("JWT-Signer-A", KeyType.EC_P384);
    expect(fake.callsOf("UpdateCryptoKey").length).toBe(updates);
    expect(key!.versions).toHaveLength(3);
  });

  it("waits for a version still PENDING_GENERATION, and gives up after SPIRE's 10 attempts", async () => {
    // A clock whose sleeps end at once: the backoff's length is not what is tested, the attempts are.
    const km = managerFor({ kms, clock: { now: () => clock.now(), sleep: async () => {} }, keyRing: freshRing(), serverId: "server-a" });
    fake.pendingPolls = 3;
    try {
      const key = await km.generateKey("pending", KeyType.EC_P256);
      expect(await signsVerifiably(km, key, "sha256")).toBe(true);
      fake.pendingPolls = 100;
      const before = fake.callsOf("GetPublicKey").length;
      const e = await rejection(km.generateKey("never-ready", KeyType.EC_P256));
      expect(fake.callsOf("GetPublicKey").length - before).toBe(10);
      expect(e.kind).toBe("internal");
      expect(e.message).toMatch(/^failed to generate key: failed to get public key: 9 FAILED_PRECONDITION: .*PENDING_GENERATION/);
      expect(() => km.getPublicKey("never-ready")).toThrow(/not found/);
    } finally {
      fake.pendingPolls = 0;
    }
  });

  it("refuses what Cloud KMS cannot name or make as invalid arguments, before calling it", async () => {
    const km = manager();
    const calls = fake.calls.length;
    const cases: Array<[string, number, RegExp]> = [
      ["", KeyType.EC_P256, /^key id is required$/],
      ["k", 0, /^key type is required$/],
      ["k", 99, /unknown key type 99/],
      ["x509.CA", KeyType.EC_P256, /characters a Cloud KMS CryptoKey ID cannot hold/],
      ["a-very-long-key-id-that-cannot-fit-in-sixty-three", KeyType.EC_P256, /too long: CryptoKey ID "spire-key-server-a-a-very.*" would be 68 characters, and Cloud KMS allows 63/],
    ];
    for (const [id, type, message] of cases) {
      const e = await rejection(km.generateKey(id, type));
      expect(e.kind, id).toBe("invalid-argument");
      expect(e.message, id).toMatch(message);
    }
    expect(fake.calls.length).toBe(calls);
  });

  it("turns Cloud KMS failures into Internal errors that say which step failed and what Cloud KMS said", async () => {
    const ring = freshRing();
    const km = manager(ring);
    fake.denied.add("cloudkms.cryptoKeys.create");
    try {
      const e = await rejection(km.generateKey("denied", KeyType.EC_P256));
      expect(e.kind).toBe("internal");
      expect(e.message).toBe(
        `failed to generate key: failed to create CryptoKey: 7 PERMISSION_DENIED: Permission 'cloudkms.cryptoKeys.create' denied on resource '${ring}' (or it may not exist).`,
      );
    } finally {
      fake.denied.clear();
    }
    const missing = manager("projects/signet-test/locations/us-east1/keyRings/never-made");
    expect((await rejection(missing.generateKey("k", KeyType.EC_P256))).message).toMatch(/failed to create CryptoKey: 5 NOT_FOUND: KeyRing .*never-made not found/);

    fake.denied.add("cloudkms.cryptoKeys.setIamPolicy");
    try {
      expect((await rejection(km.generateKey("no-policy", KeyType.EC_P256))).message).toMatch(/^failed to generate key: failed to set IAM policy: failed to set default IAM policy: 7 PERMISSION_DENIED/);
    } finally {
      fake.denied.clear();
    }
    // The CryptoKey was made before the policy failed; a second try meets it (as SPIRE, which does not adopt it).
    expect((await rejection(km.generateKey("no-policy", KeyType.EC_P256))).message).toMatch(/failed to create CryptoKey: 6 ALREADY_EXISTS/);

    fake.corruptNext("GetPublicKey");
    expect((await rejection(km.generateKey("corrupt", KeyType.EC_P256))).message).toBe("failed to generate key: failed to get public key: response corrupted in-transit");
  });

  it("lets two generations of one id run one after the other, so neither finds the CryptoKey half made", async () => {
    const ring = freshRing();
    const km = manager(ring);
    const [a, b] = await Promise.all([km.generateKey("same", KeyType.EC_P256), km.generateKey("same", KeyType.EC_P256)]);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(fake.keysIn(ring)[0]!.versions).toHaveLength(2);
    expect(km.getPublicKey("same").fingerprint).toBe(b.fingerprint);
  });
});

describe("SignData", () => {
  let km: GcpKmsKeyManager;
  let ec: PublicKeyInfo;
  beforeAll(async () => {
    km = manager();
    ec = await km.generateKey("signer", KeyType.EC_P256);
  });
  const digest = () => createHash("sha256").update(randomBytes(8)).digest();

  it("sends the digest with its CRC32C and answers a signature that verifies, with the key's fingerprint", async () => {
    expect(await signsVerifiably(km, ec, "sha256")).toBe(true);
    const sent = fake.callsOf("AsymmetricSign").at(-1) as { digest: { sha256: Buffer }; digestCrc32c: { value: string } };
    expect(sent.digest.sha256).toHaveLength(32);
    expect(Number(sent.digestCrc32c.value)).toBeGreaterThan(0);
  });

  it("refuses, as SPIRE does, missing arguments, PSS and hashes other than SHA-256 and SHA-384", async () => {
    const cases: Array<[string, Parameters<GcpKmsKeyManager["signData"]>[2], string, string]> = [
      ["", { kind: "hash", hashAlgorithm: SHA256 }, "invalid-argument", "key id is required"],
      ["signer", undefined, "invalid-argument", "signer opts is required"],
      ["nope", { kind: "hash", hashAlgorithm: SHA256 }, "not-found", 'key "nope" not found'],
      ["signer", { kind: "pss", hashAlgorithm: SHA256, saltLength: -1 }, "invalid-argument", "the only RSA signature scheme supported is RSASSA-PKCS1-v1_5"],
      ["signer", { kind: "hash", hashAlgorithm: 0 }, "invalid-argument", "hash algorithm is required"],
      ["signer", { kind: "hash", hashAlgorithm: 7 }, "invalid-argument", "hash algorithm not supported"],
    ];
    for (const [id, opts, kind, message] of cases) {
      const e = await rejection(km.signData(id, digest(), opts));
      expect([e.kind, e.message]).toEqual([kind, message]);
    }
  });

  it("refuses a hash the key's algorithm does not sign, and a digest of the wrong length, without calling Cloud KMS", async () => {
    const calls = fake.callsOf("AsymmetricSign").length;
    const wrongHash = await rejection(km.signData("signer", createHash("sha384").update("x").digest(), { kind: "hash", hashAlgorithm: SHA384 }));
    expect(wrongHash.kind).toBe("invalid-argument");
    expect(wrongHash.message).toBe('hash algorithm SHA384 does not match key "signer": its Cloud KMS algorithm EC_SIGN_P256_SHA256 signs SHA256 digests');
    const wrongLength = await rejection(km.signData("signer", Buffer.from("a message, not a digest"), { kind: "hash", hashAlgorithm: SHA256 }));
    expect(wrongLength.message).toMatch(/^data is 23 bytes, but a SHA256 digest is 32/);
    expect(fake.callsOf("AsymmetricSign").length).toBe(calls);
  });

  it("refuses a signature whose CRC32C does not match, and reports Cloud KMS failures as Internal", async () => {
    fake.corruptNext("AsymmetricSign");
    const corrupt = await rejection(km.signData("signer", digest(), { kind: "hash", hashAlgorithm: SHA256 }));
    expect([corrupt.kind, corrupt.message]).toEqual(["internal", "error signing: response corrupted in-transit"]);
    fake.denied.add("cloudkms.cryptoKeyVersions.useToSign");
    try {
      const denied = await rejection(km.signData("signer", digest(), { kind: "hash", hashAlgorithm: SHA256 }));
      expect(denied.kind).toBe("internal");
      expect(denied.message).toMatch(/^failed to sign: 7 PERMISSION_DENIED: Permission 'cloudkms.cryptoKeyVersions.useToSign' denied/);
    } finally {
      fake.denied.clear();
    }
    expect(await signsVerifiably(km, ec, "sha256")).toBe(true);
  });
});

describe("finding keys again (Configure)", () => {
  it("finds this server's active keys by their labels, each at its newest enabled version, and nobody else's", async () => {
    const ring = freshRing();
    const km = manager(ring);
    await km.generateKey("x509-CA-A", KeyType.EC_P256);
    const replaced = await km.generateKey("x509-CA-A", KeyType.EC_P256);
    const jwt = await km.generateKey("JWT-Signer-A", KeyType.EC_P384);
    const mine = { "spire-server-td": trustDomainHash(testTrustDomain), "spire-server-id": "server-a", "spire-active": "true" };
    await fake.seedCryptoKey(ring, "spire-key-server-b-x509-CA-A", "EC_SIGN_P256_SHA256", { ...mine, "spire-server-id": "server-b" });
    await fake.seedCryptoKey(ring, "spire-key-server-a-other-td", "EC_SIGN_P256_SHA256", { ...mine, "spire-server-td": trustDomainHash("other.org") });
    await fake.seedCryptoKey(ring, "spire-key-server-a-retired", "EC_SIGN_P256_SHA256", { ...mine, "spire-active": "false" });
    await fake.seedCryptoKey(ring, "hand-made-key", "EC_SIGN_P256_SHA256", mine);

    const log = recordingLogger();
    const again = await openKeyManager({ keyRing: ring, keyIdentifier: { kind: "value", value: "server-a" }, serviceAccountFile }, testTrustDomain, {
      clock,
      log,
      createKms: () => kmsFor(fake, serviceAccountFile),
    });
    try {
      expect(again.getPublicKeys()).toEqual([jwt, replaced].sort((a, b) => (a.id < b.id ? -1 : 1)));
      expect(log.lines.filter((l) => l.level === "warn").map((l) => [l.message, l.fields["crypto_key_name"]])).toEqual([
        ["Could not get SPIRE Key ID from CryptoKey", `${ring}/cryptoKeys/hand-made-key`],
      ]);
      expect(await signsVerifiably(again, replaced, "sha256")).toBe(true);
      // Filtering happens in Cloud KMS, following page tokens (the fake answers two keys a page).
      const listed = fake.callsOf("ListCryptoKeys").filter((r) => r["parent"] === ring);
      expect(listed[0]?.["filter"]).toBe(`labels.spire-server-td = ${trustDomainHash(testTrustDomain)} AND labels.spire-server-id = server-a AND labels.spire-active = true`);
      expect(listed.length).toBeGreaterThan(1);
    } finally {
      await again.kms.close();
    }
  });

  it("skips a CryptoKey with no enabled version, and refuses one whose algorithm SPIRE does not make", async () => {
    const ring = freshRing();
    const labels = { "spire-server-td": trustDomainHash(testTrustDomain), "spire-server-id": "server-a", "spire-active": "true" };
    const emptied = await fake.seedCryptoKey(ring, "spire-key-server-a-emptied", "EC_SIGN_P256_SHA256", labels);
    emptied.versions[0]!.state = "DISABLED";
    const options = { kms, clock, keyRing: ring, identity: identityOf("server-a"), deadline: deadlineIn(10_000) };
    expect(await fetchKeyEntries(options)).toEqual([]);

    await fake.seedCryptoKey(ring, "spire-key-server-a-pss", "RSA_SIGN_PSS_2048_SHA256", labels);
    const e = await rejection(fetchKeyEntries(options));
    expect([e.kind, e.message]).toEqual(["internal", "failed to fetch entries: unsupported CryptoKeyVersionAlgorithm: RSA_SIGN_PSS_2048_SHA256"]);
  });

  it("fails Configure with Internal errors naming the step: listing, the server ID file, the policy file", async () => {
    const ring = freshRing();
    const deps = { clock, log: recordingLogger(), createKms: () => kmsFor(fake, serviceAccountFile) };
    const config = { keyRing: ring, keyIdentifier: { kind: "value", value: "server-a" } as const };
    fake.denied.add("cloudkms.cryptoKeys.list");
    try {
      const e = await rejection(openKeyManager(config, testTrustDomain, deps));
      expect(e.kind).toBe("internal");
      expect(e.message).toMatch(/^failed to list SPIRE Server keys in Cloud KMS: 7 PERMISSION_DENIED: Permission 'cloudkms.cryptoKeys.list' denied/);
    } finally {
      fake.denied.clear();
    }
    const badPolicy = join(dir, "policy.json");
    writeFileSync(badPolicy, '{"bindings": {}}');
    expect((await rejection(openKeyManager({ ...config, keyPolicyFile: badPolicy }, testTrustDomain, deps))).message).toBe(
      'could not parse policy file: failed to parse custom JSON policy: "bindings" must be an array',
    );
    const notUuid = join(dir, "server-id-garbage");
    writeFileSync(notUuid, "not a uuid");
    expect((await rejection(openKeyManager({ ...config, keyIdentifier: { kind: "file", path: notUuid } }, testTrustDomain, deps))).message).toMatch(
      /^failed to parse server ID from path: /,
    );
    const creation = await rejection(
      openKeyManager(config, testTrustDomain, {
        ...deps,
        createKms: () => {
          throw new Error("no credentials");
        },
      }),
    );
    expect(creation.message).toBe("failed to create Google Cloud KMS client: no credentials");
  });

  it("keeps the server ID in key_identifier_file, so a restart finds the same keys", async () => {
    const ring = freshRing();
    const idFile = join(dir, "server-id-kept");
    const deps = { clock, log: recordingLogger(), createKms: () => kmsFor(fake, serviceAccountFile) };
    const config = { keyRing: ring, keyIdentifier: { kind: "file", path: idFile } as const, serviceAccountFile };
    const first = await openKeyManager(config, testTrustDomain, deps);
    const key = await first.generateKey("x509-CA-A", KeyType.RSA_2048);
    await first.kms.close();
    const second = await openKeyManager(config, testTrustDomain, deps);
    try {
      expect(second.getPublicKeys()).toEqual([key]);
      expect(fake.keysIn(ring)[0]!.labels["spire-server-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      await second.kms.close();
    }
    // Another trust domain with the same ID file sees none of them.
    const elsewhere = await openKeyManager(config, "other.org", deps);
    expect(elsewhere.getPublicKeys()).toEqual([]);
    await elsewhere.kms.close();
  });
});

describe("fake Cloud KMS status codes", () => {
  it("answers NOT_FOUND, ALREADY_EXISTS and FAILED_PRECONDITION as Cloud KMS does", async () => {
    const ring = freshRing();
    await expect(kms.getCryptoKeyVersion(`${ring}/cryptoKeys/none/cryptoKeyVersions/1`, deadlineIn(5000))).rejects.toMatchObject({ code: status.NOT_FOUND });
    await kms.createCryptoKey(ring, "twice", "EC_SIGN_P256_SHA256", {}, deadlineIn(5000));
    await expect(kms.createCryptoKey(ring, "twice", "EC_SIGN_P256_SHA256", {}, deadlineIn(5000))).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    const version = `${ring}/cryptoKeys/twice/cryptoKeyVersions/1`;
    await kms.destroyCryptoKeyVersion(version, deadlineIn(5000));
    await expect(kms.getPublicKey(version, deadlineIn(5000))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(kms.createCryptoKey(ring, "bad", "EC_SIGN_P256_SHA256", { "Upper-Case": "x" }, deadlineIn(5000))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
