/**
 * The aws_kms KeyManager in process, over the real AWS SDK against the KMS
 * fake: what it leaves in KMS (key spec, description, policy, tags, alias),
 * signatures that verify, rotation, finding keys again, and how KMS errors
 * come out (throttling retried, the rest with SPIRE's wording and codes).
 */
import { constants, createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyManagerError, KeyType, PluginError, type PublicKeyInfo } from "@signet/plugin-sdk";
import { FakeKms } from "../../../test/fakes/aws/kms.js";
import type { AwsKmsKeyManager } from "./keymanager.js";
import { Names } from "./names.js";
import type { ConfiguredPlugin } from "./plugin.js";
import { configFor, start, trustDomain } from "./testing/plugin.js";

const SHA256 = 5;
const SHA384 = 6;
const SHA512 = 7;
const nodeHash: Record<number, string> = { [SHA256]: "sha256", [SHA384]: "sha384", [SHA512]: "sha512" };

let kms: FakeKms;
const running: ConfiguredPlugin[] = [];
const root = mkdtempSync(join(tmpdir(), "keymanager-aws-kms-test-"));

beforeAll(async () => {
  kms = await FakeKms.start({ pregenerate: { RSA_2048: 2 } });
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await kms.close();
  rmSync(root, { recursive: true, force: true });
});

async function plugin(...args: Parameters<typeof configFor> extends [unknown, ...infer R] ? R : never): Promise<ConfiguredPlugin> {
  const p = await start(kms, configFor(kms, ...args));
  running.push(p);
  return p;
}

async function rejected(p: Promise<unknown>): Promise<KeyManagerError> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as KeyManagerError,
  );
}

/** Signs a fresh message's digest through the key manager and verifies it with node:crypto, as a host would. */
async function signsAndVerifies(keys: AwsKmsKeyManager, info: PublicKeyInfo, hash: number, pss?: { saltLength: number }): Promise<boolean> {
  const message = randomBytes(100);
  const digest = createHash(nodeHash[hash]!).update(message).digest();
  const opts = pss ? ({ kind: "pss", hashAlgorithm: hash, saltLength: pss.saltLength } as const) : ({ kind: "hash", hashAlgorithm: hash } as const);
  const { signature, keyFingerprint } = await keys.signData(info.id, digest, opts);
  expect(keyFingerprint).toBe(info.fingerprint);
  const key = createPublicKey({ key: info.pkixData, format: "der", type: "spki" });
  const rsa = info.type === KeyType.RSA_2048 || info.type === KeyType.RSA_4096;
  const options = !rsa
    ? { key, dsaEncoding: "der" as const }
    : pss
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(nodeHash[hash]!).digest().length }
      : { key, padding: constants.RSA_PKCS1_PADDING };
  return verify(nodeHash[hash]!, message, options, signature);
}

describe("GenerateKey", () => {
  it("creates a SIGN_VERIFY key with SPIRE's description, the caller's default policy and the key tags, and aliases it", async () => {
    const p = await plugin({ keyTags: [["Team", "security"]] });
    const info = await p.keys.generateKey("x509-CA-A", KeyType.EC_P256);
    const names = new Names(trustDomain, p.serverId);
    const alias = kms.aliases.get(names.alias("x509-CA-A"));
    expect(alias, "the alias exists").toBeDefined();
    const key = kms.keys.get(alias!.targetKeyId)!;
    expect(key.keySpec).toBe("ECC_NIST_P256");
    expect(key.description).toBe("SPIRE_SERVER_KEY/example_org/x509-CA-A");
    expect(Object.fromEntries(key.tags)).toEqual({ Team: "security" });
    expect(info.pkixData.equals(key.publicKey)).toBe(true);
    const policy = JSON.parse(key.policy ?? "null") as { Statement: Array<{ Principal: { AWS: string }; Action: unknown }> };
    expect(policy.Statement.map((s) => s.Principal.AWS)).toEqual(["arn:aws:iam::111122223333:role/spire-server", "arn:aws:iam::111122223333:root"]);
    expect(policy.Statement[0]!.Action).toBe("kms:*");
    expect(p.keys.getPublicKey("x509-CA-A")).toEqual(info);
  });

  it("uses key_policy_file as it is, and sends no policy when the caller is not an assumed role", async () => {
    const policyFile = join(root, "policy.json");
    const policy = '{"Version": "2012-10-17", "Statement": [{"Sid": "mine"}]}';
    writeFileSync(policyFile, policy);
    const withFile = await plugin({ keyPolicyFile: policyFile });
    const a = await withFile.keys.generateKey("a", KeyType.EC_P256);
    expect([...kms.keys.values()].find((k) => k.publicKey.equals(a.pkixData))?.policy).toBe(policy);

    kms.callerArn = "arn:aws:iam::111122223333:user/alice";
    try {
      const asUser = await plugin();
      const b = await asUser.keys.generateKey("b", KeyType.EC_P256);
      expect([...kms.keys.values()].find((k) => k.publicKey.equals(b.pkixData))?.policy).toBeUndefined();
    } finally {
      kms.callerArn = "arn:aws:sts::111122223333:assumed-role/spire-server/i-0123456789abcdef0";
    }
  });

  it("refuses an empty id and unknown types without calling KMS", async () => {
    const p = await plugin();
    const before = kms.calls.length;
    for (const [id, type, message] of [
      ["", KeyType.EC_P256, "key id is required"],
      ["x", 0, "key type is required"],
      ["x", 99, "unsupported key type: 99"],
    ] as const) {
      const e = await rejected(p.keys.generateKey(id, type));
      expect(e.kind).toBe("invalid-argument");
      expect(e.message).toBe(message);
    }
    expect(kms.calls.length).toBe(before);
  });

  it("replaces a key: the alias moves to the new key and the old one is scheduled for deletion in 7 days", async () => {
    const p = await plugin();
    const old = await p.keys.generateKey("jwt", KeyType.EC_P256);
    const replaced = await p.keys.generateKey("jwt", KeyType.RSA_2048);
    expect(replaced.fingerprint).not.toBe(old.fingerprint);
    expect(p.keys.getPublicKey("jwt")).toEqual(replaced);
    const alias = kms.aliases.get(new Names(trustDomain, p.serverId).alias("jwt"))!;
    expect(kms.keys.get(alias.targetKeyId)!.publicKey.equals(replaced.pkixData)).toBe(true);
    await p.queue.idle();
    const oldKey = [...kms.keys.values()].find((k) => k.publicKey.equals(old.pkixData))!;
    expect(oldKey.keyState).toBe("PendingDeletion");
    expect(oldKey.deletionDate!.getTime() - kms.now().getTime()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
    expect(await signsAndVerifies(p.keys, replaced, SHA256)).toBe(true);
  });

  it("fails with SPIRE's wording when KMS refuses, and queues a key left without its alias for deletion", async () => {
    const p = await plugin();
    const before = kms.calls.length;
    kms.failNext("CreateKey", { type: "AccessDeniedException", message: "User: arn:aws:sts::111122223333:assumed-role/spire-server/i-1 is not authorized to perform: kms:CreateKey" });
    const denied = await rejected(p.keys.generateKey("a", KeyType.EC_P256));
    expect(denied.kind).toBe("internal");
    expect(denied.message).toBe("failed to create key: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/spire-server/i-1 is not authorized to perform: kms:CreateKey");
    expect(kms.calls.slice(before).filter((c) => c.operation === "CreateKey"), "access denied is not retried").toHaveLength(1);

    kms.failNext("CreateAlias", { type: "InvalidAliasNameException", message: "alias name refused" });
    const noAlias = await rejected(p.keys.generateKey("a", KeyType.EC_P256));
    expect(noAlias.message).toBe("failed to create alias: InvalidAliasNameException: alias name refused");
    expect(() => p.keys.getPublicKey("a")).toThrow('key "a" not found');
    await p.queue.idle();
    const created = kms.calls.slice(before).filter((c) => c.operation === "GetPublicKey").map((c) => kms.resolve(c.input["KeyId"] as string)!);
    expect(created.map((k) => k.keyState)).toEqual(["PendingDeletion"]);
  });
});

describe("SignData", () => {
  let p: ConfiguredPlugin;
  const keys: Partial<Record<"ec256" | "ec384" | "rsa", PublicKeyInfo>> = {};
  beforeAll(async () => {
    p = await plugin();
    [keys.ec256, keys.ec384, keys.rsa] = await Promise.all([
      p.keys.generateKey("ec256", KeyType.EC_P256),
      p.keys.generateKey("ec384", KeyType.EC_P384),
      p.keys.generateKey("rsa", KeyType.RSA_2048),
    ]);
  });

  it("signs digests in KMS with signatures that verify: ECDSA (DER) with any SHA-2 digest on either curve, RSA PKCS #1 v1.5", async () => {
    for (const hash of [SHA256, SHA384, SHA512]) {
      expect(await signsAndVerifies(p.keys, keys.ec256!, hash), `P-256 ${hash}`).toBe(true);
      expect(await signsAndVerifies(p.keys, keys.ec384!, hash), `P-384 ${hash}`).toBe(true);
      expect(await signsAndVerifies(p.keys, keys.rsa!, hash), `RSA ${hash}`).toBe(true);
    }
    const algorithms = kms.calls.filter((c) => c.operation === "Sign").map((c) => `${c.input["SigningAlgorithm"] as string}/${c.input["MessageType"] as string}`);
    expect(new Set(algorithms)).toEqual(new Set(["ECDSA_SHA_256/DIGEST", "ECDSA_SHA_384/DIGEST", "RSASSA_PKCS1_V1_5_SHA_256/DIGEST", "RSASSA_PKCS1_V1_5_SHA_384/DIGEST", "RSASSA_PKCS1_V1_5_SHA_512/DIGEST"]));
  });

  it("signs RSA PSS with the salt lengths KMS honours and refuses the others", async () => {
    for (const hash of [SHA256, SHA384, SHA512]) {
      for (const saltLength of [-1, 0, createHash(nodeHash[hash]!).digest().length]) {
        expect(await signsAndVerifies(p.keys, keys.rsa!, hash, { saltLength }), `PSS ${hash} salt ${saltLength}`).toBe(true);
      }
    }
    const e = await rejected(p.keys.signData("rsa", randomBytes(32), { kind: "pss", hashAlgorithm: SHA256, saltLength: 20 }));
    expect(e.kind).toBe("invalid-argument");
    expect(e.message).toMatch(/PSS salt length 20 is not supported: AWS KMS signs PSS with a salt as long as the hash \(32 bytes for SHA256\)/);
  });

  it("refuses bad requests as SPIRE does, before any KMS call", async () => {
    const before = kms.count("Sign");
    const cases: Array<[string, Parameters<AwsKmsKeyManager["signData"]>, KeyManagerError["kind"], RegExp]> = [
      ["no id", ["", randomBytes(32), { kind: "hash", hashAlgorithm: SHA256 }], "invalid-argument", /^key id is required$/],
      ["no opts", ["rsa", randomBytes(32), undefined], "invalid-argument", /^signer opts is required$/],
      ["no hash", ["rsa", randomBytes(32), { kind: "hash", hashAlgorithm: 0 }], "invalid-argument", /^hash algorithm is required$/],
      ["no PSS hash", ["rsa", randomBytes(32), { kind: "pss", hashAlgorithm: 0, saltLength: -1 }], "invalid-argument", /^hash algorithm in PSS options is required$/],
      ["PSS on EC", ["ec256", randomBytes(32), { kind: "pss", hashAlgorithm: SHA256, saltLength: -1 }], "invalid-argument", /^unsupported combination of keytype: EC_P256 and hashing algorithm: SHA256$/],
      ["SHA-224", ["rsa", randomBytes(28), { kind: "hash", hashAlgorithm: 4 }], "invalid-argument", /^unsupported combination of keytype: RSA_2048 and hashing algorithm: SHA224$/],
      ["a message, not a digest", ["rsa", randomBytes(100), { kind: "hash", hashAlgorithm: SHA256 }], "invalid-argument", /^data is 100 bytes, but a SHA256 digest is 32/],
      ["unknown key", ["nope", randomBytes(32), { kind: "hash", hashAlgorithm: SHA256 }], "not-found", /^key "nope" not found$/],
    ];
    for (const [name, args, kind, message] of cases) {
      const e = await rejected(p.keys.signData(...args));
      expect(e.kind, name).toBe(kind);
      expect(e.message, name).toMatch(message);
    }
    expect(kms.count("Sign")).toBe(before);
  });

  it("retries throttling (the SDK's backoff) and answers the signature", async () => {
    kms.failNext("Sign", { type: "ThrottlingException", message: "Rate exceeded", times: 2 });
    const before = kms.count("Sign");
    expect(await signsAndVerifies(p.keys, keys.ec256!, SHA256)).toBe(true);
    expect(kms.count("Sign") - before).toBe(3);
  });

  it("does not retry access denied, and says what KMS said", async () => {
    kms.failNext("Sign", { type: "AccessDeniedException", message: "not authorized to perform: kms:Sign" });
    const before = kms.count("Sign");
    const e = await rejected(p.keys.signData("ec256", randomBytes(32), { kind: "hash", hashAlgorithm: SHA256 }));
    expect(e.kind).toBe("internal");
    expect(e.message).toBe("failed to sign: AccessDeniedException: not authorized to perform: kms:Sign");
    expect(kms.count("Sign") - before).toBe(1);
  });

  it("gives up on a KMS that keeps failing after the SDK's attempts, as Internal", async () => {
    kms.failNext("Sign", { type: "KMSInternalException", message: "boom", status: 500, times: 4 });
    const e = await rejected(p.keys.signData("ec256", randomBytes(32), { kind: "hash", hashAlgorithm: SHA256 }));
    expect(e.kind).toBe("internal");
    expect(e.message).toBe("failed to sign: KMSInternalException: boom");
  });
});

describe("Configure", () => {
  it("finds this server's keys again through their aliases (paged), and no one else's", async () => {
    const paged = await FakeKms.start({ maxPage: 2 });
    try {
      const config = configFor(paged);
      const first = await start(paged, config);
      const made = await Promise.all(["a", "b.c", "d+e"].map((id) => first.keys.generateKey(id, KeyType.EC_P256)));
      await first.stop();
      const other = await start(paged, configFor(paged));
      await other.keys.generateKey("a", KeyType.EC_P384);
      await other.stop();

      const again = await start(paged, config);
      running.push(again);
      expect(again.keys.getPublicKeys()).toEqual(made.sort((x, y) => (x.id < y.id ? -1 : 1)));
      expect(paged.count("ListAliases")).toBeGreaterThan(3);
      expect(await signsAndVerifies(again.keys, again.keys.getPublicKey("b.c"), SHA256)).toBe(true);
    } finally {
      await paged.close();
    }
  });

  it("stops on a disabled key (FailedPrecondition) and on a failed listing (Internal)", async () => {
    const config = configFor(kms);
    const p = await start(kms, config);
    await p.keys.generateKey("disabled", KeyType.EC_P256);
    await p.stop();
    const alias = kms.aliases.get(new Names(trustDomain, p.serverId).alias("disabled"))!;
    const key = kms.keys.get(alias.targetKeyId)!;
    key.keyState = "Disabled";
    try {
      const e = await start(kms, config).catch((x: unknown) => x as PluginError);
      expect(e).toBeInstanceOf(PluginError);
      expect((e as PluginError).kind).toBe("failed-precondition");
      expect((e as PluginError).message).toBe(`failed to fetch aliases: found disabled SPIRE key: ${JSON.stringify(key.arn)}, alias: ${JSON.stringify(kms.aliasArn(alias.aliasName))}`);
    } finally {
      key.keyState = "Enabled";
    }

    kms.failNext("ListAliases", { type: "AccessDeniedException", message: "not authorized to perform: kms:ListAliases" });
    const denied = await start(kms, config).catch((x: unknown) => x as PluginError);
    expect((denied as PluginError).kind).toBe("internal");
    expect((denied as PluginError).message).toBe("failed to fetch aliases: AccessDeniedException: not authorized to perform: kms:ListAliases");
  });

  it("keeps the server id in key_identifier_file, so a restart finds the keys", async () => {
    const path = join(root, "key_metadata");
    const config = configFor(kms, { identity: { kind: "file", path } });
    const first = await start(kms, config);
    const info = await first.keys.generateKey("x509-CA-A", KeyType.EC_P256);
    await first.stop();
    const again = await start(kms, config);
    running.push(again);
    expect(again.serverId).toBe(first.serverId);
    expect(again.keys.getPublicKey("x509-CA-A")).toEqual(info);
  });

  it("refuses an unreadable key_policy_file as Internal, naming the key", async () => {
    const e = await start(kms, configFor(kms, { keyPolicyFile: join(root, "missing.json") })).catch((x: unknown) => x as PluginError);
    expect((e as PluginError).kind).toBe("internal");
    expect((e as PluginError).message).toMatch(/^failed to read file configured in 'key_policy_file': .*ENOENT/);
  });
});
