import { constants, createHash, createPublicKey, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentKeysFileName, keysFileOf, parseConfig } from "./config.js";
import { KeysFileError, readKeysFile, writeKeysFile } from "./keys-file.js";
import { DiskKeyManager, KeyManagerError, KeyType, type PublicKeyInfo } from "./keymanager.js";

const SHA256 = 5;

const root = mkdtempSync(join(tmpdir(), "keymanager-disk-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
function freshDir(): string {
  const dir = join(root, `${++made}`);
  mkdirSync(dir);
  return dir;
}

async function reopen(path: string): Promise<DiskKeyManager> {
  return new DiskKeyManager(path, await readKeysFile(path));
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as Error,
  );
}

function verifies(info: PublicKeyInfo, km: DiskKeyManager): boolean {
  const message = randomBytes(64);
  const digest = createHash("sha256").update(message).digest();
  const { signature, keyFingerprint } = km.signData(info.id, digest, { kind: "hash", hashAlgorithm: SHA256 });
  const key = createPublicKey({ key: info.pkixData, format: "der", type: "spki" });
  const rsa = info.type === KeyType.RSA_2048 || info.type === KeyType.RSA_4096;
  const ok = verify("sha256", message, rsa ? { key, padding: constants.RSA_PKCS1_PADDING } : { key, dsaEncoding: "der" }, signature);
  return ok && keyFingerprint === info.fingerprint;
}

describe("DiskKeyManager", () => {
  it("writes every key to the file in SPIRE's format, mode 0600, and reads them back as the same keys", async () => {
    const path = join(freshDir(), "keys.json");
    const km = new DiskKeyManager(path);
    const made = await Promise.all([
      km.generateKey("ec256", KeyType.EC_P256),
      km.generateKey("ec384", KeyType.EC_P384),
      km.generateKey("rsa2048", KeyType.RSA_2048),
    ]);

    const file = JSON.parse(readFileSync(path, "utf8")) as { keys: Record<string, string> };
    expect(Object.keys(file)).toEqual(["keys"]);
    expect(Object.keys(file.keys).sort()).toEqual(["ec256", "ec384", "rsa2048"]);
    for (const value of Object.values(file.keys)) expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(path, "..")), "no temporary file is left behind").toEqual(["keys.json"]);

    const again = await reopen(path);
    expect(again.getPublicKeys().map((k) => k.id)).toEqual(["ec256", "ec384", "rsa2048"]);
    for (const info of made) {
      const kept = again.getPublicKey(info.id);
      expect(kept.type).toBe(info.type);
      expect(kept.pkixData.equals(info.pkixData)).toBe(true);
      expect(kept.fingerprint).toBe(info.fingerprint);
      expect(verifies(kept, again)).toBe(true);
    }
  });

  it("persists a replaced key, so a restart signs with the new one", async () => {
    const path = join(freshDir(), "keys.json");
    const km = new DiskKeyManager(path);
    const old = await km.generateKey("rotating", KeyType.EC_P256);
    const replaced = await km.generateKey("rotating", KeyType.EC_P256);
    expect(replaced.fingerprint).not.toBe(old.fingerprint);
    const again = await reopen(path);
    expect(again.getPublicKeys()).toHaveLength(1);
    expect(again.getPublicKey("rotating").fingerprint).toBe(replaced.fingerprint);
  });

  it("keeps every key when generations run concurrently", async () => {
    const path = join(freshDir(), "keys.json");
    const km = new DiskKeyManager(path);
    const ids = ["a", "b", "c", "d", "e", "f"];
    await Promise.all(ids.map((id) => km.generateKey(id, KeyType.EC_P256)));
    expect((await reopen(path)).getPublicKeys().map((k) => k.id)).toEqual(ids);
  });

  it("refuses an empty id and unknown types as invalid arguments, writing nothing", async () => {
    const path = join(freshDir(), "keys.json");
    const km = new DiskKeyManager(path);
    for (const [id, type] of [["", KeyType.EC_P256], ["x", 0], ["x", 99]] as const) {
      const e = await rejected(km.generateKey(id, type));
      expect(e).toBeInstanceOf(KeyManagerError);
      expect((e as KeyManagerError).kind).toBe("invalid-argument");
    }
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });

  it("fails a generation whose write fails, naming the path, and keeps the keys it had", async () => {
    const dir = freshDir();
    const path = join(dir, "keys.json");
    const km = new DiskKeyManager(path);
    const kept = await km.generateKey("kept", KeyType.EC_P256);

    // Put a file where the directory was: the next write cannot even create its temporary file.
    renameSync(dir, `${dir}.moved`);
    writeFileSync(dir, "not a directory");
    const e = await rejected(km.generateKey("lost", KeyType.EC_P256));
    expect(e).toBeInstanceOf(KeyManagerError);
    expect((e as KeyManagerError).kind).toBe("internal");
    expect(e.message).toContain(`unable to write keys file ${JSON.stringify(path)}`);
    expect(km.getPublicKeys().map((k) => k.id)).toEqual(["kept"]);
    expect(verifies(kept, km)).toBe(true);
    const replaced = await rejected(km.generateKey("kept", KeyType.EC_P256));
    expect(replaced.message).toContain("unable to write keys file");
    expect(km.getPublicKey("kept").fingerprint, "a failed replacement keeps the old key").toBe(kept.fingerprint);

    rmSync(dir);
    renameSync(`${dir}.moved`, dir);
    expect((await reopen(path)).getPublicKeys().map((k) => k.fingerprint)).toEqual([kept.fingerprint]);
  });

  it("fails a write under a missing directory and leaves no key behind", async () => {
    const path = join(root, "no-such-directory", "keys.json");
    const km = new DiskKeyManager(path);
    const e = await rejected(km.generateKey("a", KeyType.EC_P256));
    expect(e.message).toMatch(/unable to write keys file .*no-such-directory.*ENOENT/);
    expect(km.getPublicKeys()).toEqual([]);
  });

  it("removes its temporary file when the final rename fails", async () => {
    const dir = freshDir();
    const path = join(dir, "keys.json");
    mkdirSync(join(path, "occupied"), { recursive: true }); // a non-empty directory cannot be renamed over
    const e = await rejected(new DiskKeyManager(path).generateKey("a", KeyType.EC_P256));
    expect(e.message).toContain(`unable to write keys file ${JSON.stringify(path)}`);
    expect(readdirSync(dir)).toEqual(["keys.json"]);
  });
});

describe("readKeysFile", () => {
  it("answers no keys for a missing file, an empty object and null keys", async () => {
    const dir = freshDir();
    expect(await readKeysFile(join(dir, "missing.json"))).toEqual([]);
    for (const text of ["{}", '{"keys": null}', '{"keys": {}}']) {
      writeFileSync(join(dir, "k.json"), text);
      expect(await readKeysFile(join(dir, "k.json"))).toEqual([]);
    }
  });

  it("reads a file as SPIRE writes it (tab-indented, standard base64 PKCS #8, ids in any order)", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const pkcs8 = ec.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    const path = join(freshDir(), "keys.json");
    writeFileSync(path, `{\n\t"keys": {\n\t\t"x509-CA-A": "${pkcs8}"\n\t}\n}`);
    const [entry] = await readKeysFile(path);
    expect(entry?.info.id).toBe("x509-CA-A");
    expect(entry?.info.type).toBe(KeyType.EC_P384);
    expect(entry?.info.pkixData.equals(ec.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
  });

  it("refuses a corrupt file, naming the path and what is wrong, and leaves it as it was", async () => {
    const dir = freshDir();
    const path = join(dir, "keys.json");
    const pkcs8 = (key: ReturnType<typeof generateKeyPairSync>["privateKey"]) => key.export({ type: "pkcs8", format: "der" }).toString("base64");
    const cases: Array<[string, RegExp]> = [
      ["", /not JSON/],
      ["{ keys", /not JSON/],
      ["[]", /expected a JSON object with "keys", got an array/],
      ['{"keys": []}', /"keys" must map key ids to base64 PKCS #8 keys, got an array/],
      ['{"keys": {"a": 5}}', /key "a": expected a base64 string, got a number/],
      ['{"keys": {"a": "not base64!"}}', /key "a": not standard base64/],
      ['{"keys": {"a": "AAAA"}}', /key "a": not a PKCS #8 private key/],
      ['{"keys": {"": "AAAA"}}', /a key has an empty id/],
      [JSON.stringify({ keys: { ed: pkcs8(generateKeyPairSync("ed25519").privateKey) } }), /key "ed": .*unsupported type ed25519/],
      [JSON.stringify({ keys: { p521: pkcs8(generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey) } }), /key "p521": .*unsupported curve secp521r1/],
    ];
    for (const [text, problem] of cases) {
      writeFileSync(path, text);
      const e = await rejected(readKeysFile(path));
      expect(e, text).toBeInstanceOf(KeysFileError);
      expect(e.message, text).toContain(`keys file ${JSON.stringify(path)} is corrupt: `);
      expect(e.message, text).toMatch(problem);
      expect(readFileSync(path, "utf8")).toBe(text);
    }
  });

  it("refuses an unreadable file, naming the path", async () => {
    const path = join(freshDir(), "keys.json");
    mkdirSync(path);
    const e = await rejected(readKeysFile(path));
    expect(e).toBeInstanceOf(KeysFileError);
    expect(e.message).toMatch(new RegExp(`^unable to read keys file ${JSON.stringify(path)}: .*EISDIR`));
  });

  it("round-trips what writeKeysFile writes", async () => {
    const path = join(freshDir(), "keys.json");
    const km = new DiskKeyManager(path);
    await km.generateKey("k", KeyType.EC_P256);
    const entries = await readKeysFile(path);
    const copy = join(freshDir(), "copy.json");
    await writeKeysFile(copy, entries);
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(path, "utf8"));
  });
});

describe("parseConfig", () => {
  it("takes keys_path (server) or directory (agent), in JSON or HCL", async () => {
    expect(await parseConfig('keys_path = "/var/lib/spire/server/keys.json"')).toEqual({ side: "server", keysPath: "/var/lib/spire/server/keys.json" });
    expect(await parseConfig('{"directory": "/var/lib/spire/agent"}')).toEqual({ side: "agent", directory: "/var/lib/spire/agent" });
    expect(keysFileOf({ side: "agent", directory: "/d" })).toBe(`/d/${agentKeysFileName}`);
    expect(keysFileOf({ side: "server", keysPath: "/k.json" })).toBe("/k.json");
  });

  it("refuses neither, both, empty values and unknown keys, naming the key", async () => {
    await expect(parseConfig("")).rejects.toThrow(/^keymanager disk: keys_path \(server\) or directory \(agent\) is required$/);
    await expect(parseConfig('keys_path = "/k"\ndirectory = "/d"')).rejects.toThrow(/keys_path and directory are both set/);
    await expect(parseConfig('keys_path = ""')).rejects.toThrow(/^keymanager disk: keys_path is empty/);
    await expect(parseConfig('directory = ""')).rejects.toThrow(/^keymanager disk: directory is empty/);
    await expect(parseConfig('{"keys_path": "/k", "shared_keys": {}}')).rejects.toThrow(/^keymanager disk: .*shared_keys/);
    await expect(parseConfig('directory = "/d"\nkey_path = "/k"')).rejects.toThrow(/^keymanager disk: .*key_path: unknown key/);
    await expect(parseConfig("{ nope")).rejects.toThrow(/^keymanager disk: /);
  });
});
