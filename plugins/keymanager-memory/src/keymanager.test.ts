import { constants, createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";
import { KeyManagerError, KeyType, MemoryKeyManager, type PublicKeyInfo, fingerprintOf } from "./keymanager.js";

const SHA256 = 5;
const SHA384 = 6;
const SHA512 = 7;

function kindOf(e: unknown): string | undefined {
  return e instanceof KeyManagerError ? e.kind : undefined;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

function publicKeyOf(info: PublicKeyInfo) {
  return createPublicKey({ key: info.pkixData, format: "der", type: "spki" });
}

describe("MemoryKeyManager", () => {
  const km = new MemoryKeyManager();
  let ec256: PublicKeyInfo;
  let ec384: PublicKeyInfo;
  let rsa: PublicKeyInfo;

  beforeAll(async () => {
    [ec256, ec384, rsa] = await Promise.all([
      km.generateKey("ec256", KeyType.EC_P256),
      km.generateKey("ec384", KeyType.EC_P384),
      km.generateKey("rsa2048", KeyType.RSA_2048),
    ]);
  });

  it("generates keys of the asked type, with the hex SHA-256 of the PKIX DER as fingerprint", () => {
    expect(publicKeyOf(ec256).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(publicKeyOf(ec384).asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(publicKeyOf(rsa).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsa.type).toBe(KeyType.RSA_2048);
    expect(ec256.fingerprint).toBe(createHash("sha256").update(ec256.pkixData).digest("hex"));
    expect(fingerprintOf(rsa.pkixData)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses an empty id, an unspecified type and an unknown type as invalid arguments", async () => {
    expect(kindOf(await rejected(km.generateKey("", KeyType.EC_P256)))).toBe("invalid-argument");
    expect(((await rejected(km.generateKey("x", 0))) as Error).message).toBe("key type is required");
    expect(((await rejected(km.generateKey("x", 99))) as Error).message).toMatch(/unknown key type 99/);
    expect(km.getPublicKeys().map((k) => k.id)).not.toContain("x");
  });

  it("answers keys by id, lists them sorted by id, and says not-found for unknown ids", () => {
    expect(km.getPublicKey("ec384")).toBe(ec384);
    expect(kindOf(thrown(() => km.getPublicKey("nope")))).toBe("not-found");
    expect(kindOf(thrown(() => km.getPublicKey("")))).toBe("invalid-argument");
    const ids = km.getPublicKeys().map((k) => k.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(["ec256", "ec384", "rsa2048"]));
  });

  it("replaces a key when its id is generated again", async () => {
    const a = await km.generateKey("rotating", KeyType.EC_P256);
    const b = await km.generateKey("rotating", KeyType.EC_P256);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(km.getPublicKey("rotating")).toBe(b);
    expect(km.signData("rotating", randomBytes(32), { kind: "hash", hashAlgorithm: SHA256 }).keyFingerprint).toBe(b.fingerprint);
  });

  it("signs digests with ECDSA as ASN.1 DER that node:crypto verifies against the message", () => {
    for (const [info, hashAlgorithm, name] of [
      [ec256, SHA256, "sha256"],
      [ec256, SHA512, "sha512"],
      [ec384, SHA384, "sha384"],
      [ec384, SHA256, "sha256"],
    ] as const) {
      const message = randomBytes(100);
      const digest = createHash(name).update(message).digest();
      const { signature, keyFingerprint } = km.signData(info.id, digest, { kind: "hash", hashAlgorithm });
      expect(signature[0]).toBe(0x30); // a DER SEQUENCE, not r||s
      expect(verify(name, message, { key: publicKeyOf(info), dsaEncoding: "der" }, signature)).toBe(true);
      expect(keyFingerprint).toBe(info.fingerprint);
    }
  });

  it("signs digests with RSA PKCS #1 v1.5", () => {
    for (const [hashAlgorithm, name] of [
      [SHA256, "sha256"],
      [SHA384, "sha384"],
      [SHA512, "sha512"],
    ] as const) {
      const message = randomBytes(100);
      const digest = createHash(name).update(message).digest();
      const { signature } = km.signData("rsa2048", digest, { kind: "hash", hashAlgorithm });
      expect(verify(name, message, { key: publicKeyOf(rsa), padding: constants.RSA_PKCS1_PADDING }, signature)).toBe(true);
    }
  });

  it("signs digests with RSA PSS, honouring Go's salt-length conventions", () => {
    const message = randomBytes(100);
    const digest = createHash("sha256").update(message).digest();
    const key = publicKeyOf(rsa);
    const pss = (sig: Buffer, saltLength: number) => verify("sha256", message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, sig);
    const sign = (saltLength: number) => km.signData("rsa2048", digest, { kind: "pss", hashAlgorithm: SHA256, saltLength }).signature;
    expect(pss(sign(-1), 32)).toBe(true); // equal to the hash
    expect(pss(sign(0), 256 - 32 - 2)).toBe(true); // as large as possible
    expect(pss(sign(0), 32)).toBe(false);
    expect(pss(sign(48), 48)).toBe(true);
    expect(kindOf(thrown(() => sign(300)))).toBe("invalid-argument");
  });

  it("refuses what Go's signers refuse, as invalid arguments", () => {
    const digest = randomBytes(32);
    const cases: Array<[string, () => unknown, RegExp]> = [
      ["empty id", () => km.signData("", digest, { kind: "hash", hashAlgorithm: SHA256 }), /key id is required/],
      ["no options", () => km.signData("ec256", digest, undefined), /signer opts is required/],
      ["no hash", () => km.signData("ec256", digest, { kind: "hash", hashAlgorithm: 0 }), /hash algorithm is required/],
      ["no PSS hash", () => km.signData("rsa2048", digest, { kind: "pss", hashAlgorithm: 0, saltLength: -1 }), /PSS options is required/],
      ["unknown hash", () => km.signData("ec256", digest, { kind: "hash", hashAlgorithm: 42 }), /not supported/],
      ["PSS with EC", () => km.signData("ec256", digest, { kind: "pss", hashAlgorithm: SHA256, saltLength: -1 }), /RSA keys only/],
      ["message, not digest", () => km.signData("rsa2048", randomBytes(100), { kind: "hash", hashAlgorithm: SHA256 }), /not the message/],
    ];
    for (const [, fn, message] of cases) {
      const e = thrown(fn);
      expect(kindOf(e)).toBe("invalid-argument");
      expect((e as Error).message).toMatch(message);
    }
    expect(kindOf(thrown(() => km.signData("nope", digest, { kind: "hash", hashAlgorithm: SHA256 })))).toBe("not-found");
  });
});

describe("parseConfig", () => {
  it("accepts nothing to configure", async () => {
    for (const text of ["", "  \n", "{}"]) await expect(parseConfig(text)).resolves.toBeUndefined();
  });

  it("refuses any setting, naming it", async () => {
    await expect(parseConfig('{"keys_path": "/tmp/k"}')).rejects.toThrow(/keymanager memory takes no configuration: .*keys_path/);
    await expect(parseConfig('keys_path = "/tmp/k"')).rejects.toThrow(/keymanager memory takes no configuration: .*keys_path/);
    await expect(parseConfig("{ nope")).rejects.toThrow(/keymanager memory takes no configuration/);
  });
});
