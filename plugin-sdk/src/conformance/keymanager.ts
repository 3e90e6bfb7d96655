/**
 * The KeyManager suite: SPIRE's own keymanager conformance tests
 * (pkg/{server,agent}/plugin/keymanager/test), replayed over the wire against
 * the plugin process, plus the checks SPIRE's facade makes on every answer
 * (id, PKIX, fingerprint). Reference: plugin-protocol.md §3.5 and §6.
 */
import { type KeyObject, randomBytes } from "node:crypto";
import type { AsyncClient } from "@signet/proto";
import { KeyManagerService as AgentKeyManagerService } from "@signet/proto/spire/plugin/agent/keymanager/v1/keymanager";
import {
  type HashAlgorithm,
  type KeyType,
  type PublicKey,
  KeyManagerService as ServerKeyManagerService,
  type SignDataRequest,
} from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { Code, expect, expectOk, expectRpcError, fail, outcome, describeRpcError, quote } from "./assert.js";
import { defineCheck, defineSuite } from "./define.js";
import { batchSignerChecks } from "./keymanager-batch.js";
import { PluginHarness, type PluginSession } from "./harness.js";
import { type PluginUnderTest, type Side, configText, resolvePlugin } from "./plugin.js";
import {
  type KeyTypeName,
  type SignatureAlgorithm,
  algorithm,
  allKeyTypes,
  digestOf,
  inspectPublicKey,
  keyTypes,
  pssSaltLengths,
  signatureAlgorithmsFor,
  signatureProblem,
} from "./signatures.js";
import type { Check, Suite } from "./suite.js";

export interface KeyManagerSuiteOptions {
  /** Which service to test: the server's or the agent's KeyManager (same messages, different package). */
  readonly side: Side;
  /** Key types the plugin supports; default all four. */
  readonly keyTypes?: readonly KeyTypeName[];
  /** Signature algorithms a key type cannot do (SPIRE's UnsupportedSignatureAlgorithms). */
  readonly unsupportedSignatureAlgorithms?: Partial<Record<KeyTypeName, readonly SignatureAlgorithm[]>>;
  /** The plugin keeps keys across restarts (e.g. on disk or in a KMS): checked by restarting it. */
  readonly persistent?: boolean;
  /** The plugin serves Signet's BatchSigner extension (signet.plugin.keymanager.v1): checked with batch-sign checks. */
  readonly batchSigner?: boolean;
}

type KeyManagerClient = AsyncClient<typeof ServerKeyManagerService>;

/** A key as the suite saw it generated, with its parsed public half. */
interface GeneratedKey {
  readonly id: string;
  readonly type: KeyTypeName;
  readonly publicKey: PublicKey;
  readonly key: KeyObject;
}

export function keyManagerSuite(pluginUnderTest: PluginUnderTest, options: KeyManagerSuiteOptions): Suite {
  const plugin = resolvePlugin({ ...pluginUnderTest, sides: pluginUnderTest.sides ?? [options.side] });
  const harness = new PluginHarness(plugin);
  const types = options.keyTypes ?? allKeyTypes;
  const deadline = () => ({ deadline: plugin.callTimeoutMs });
  /** The type's signature algorithms, less those the plugin declared it does not support. */
  const supportedAlgorithms = (type: KeyTypeName) => {
    const unsupported = new Set(options.unsupportedSignatureAlgorithms?.[type] ?? []);
    return signatureAlgorithmsFor(type).filter((a) => !unsupported.has(a));
  };
  const supportedAlgorithm = (type: KeyTypeName) => {
    const alg = supportedAlgorithms(type)[0];
    if (!alg) throw new Error(`the suite options leave ${type} keys no signature algorithm to check`);
    return alg;
  };

  const clientOf = (s: PluginSession): KeyManagerClient =>
    // Both sides' services carry identical messages; the agent's enums are the same numbers.
    (options.side === "server" ? s.client(ServerKeyManagerService) : s.client(AgentKeyManagerService)) as KeyManagerClient;
  const shared = async () => clientOf(await harness.shared());

  /** One key per type in the shared process, generated on first use and reused by the signing checks. */
  const sharedKeys = new Map<KeyTypeName, Promise<GeneratedKey>>();
  const sharedKey = (type: KeyTypeName) => {
    let key = sharedKeys.get(type);
    if (!key) {
      key = shared().then((c) => generate(c, `conformance-${type.toLowerCase()}`, type));
      sharedKeys.set(type, key);
    }
    return key;
  };

  async function generate(client: KeyManagerClient, id: string, type: KeyTypeName): Promise<GeneratedKey> {
    const what = `GenerateKey(${quote(id)}, ${type})`;
    const res = await expectOk(client.generateKey({ keyId: id, keyType: keyTypes[type].wire as KeyType }, deadline()), what);
    return accept(what, res.publicKey, id, type);
  }

  /** SPIRE's facade checks on a returned key, plus the key's type and size. */
  function accept(what: string, pk: PublicKey | undefined, id: string, type: KeyTypeName): GeneratedKey {
    expect(pk, `${what} answered without a public_key`);
    expect(pk.id === id, `${what} answered key id ${quote(pk.id)}; expected ${quote(id)}`);
    expect(pk.type === keyTypes[type].wire, `${what} answered key type ${pk.type}; expected ${keyTypes[type].wire} (${type})`);
    expect(pk.pkixData.length > 0, `${what} answered empty pkix_data`);
    const inspected = inspectPublicKey(pk.pkixData, type);
    if ("problem" in inspected) fail(`${what}: ${inspected.problem}`);
    expect(pk.fingerprint.trim() !== "", `${what} answered an empty fingerprint (hosts compare it with SignData's key_fingerprint)`);
    return { id, type, publicKey: pk, key: inspected.key };
  }

  async function signAndVerify(client: KeyManagerClient, key: GeneratedKey, alg: SignatureAlgorithm, saltLength?: number): Promise<void> {
    const { scheme, hash } = algorithm(alg);
    const message = randomBytes(64);
    const digest = digestOf(message, alg);
    const signerOpts: SignDataRequest["signerOpts"] =
      scheme === "pss"
        ? { $case: "pssOptions", value: { saltLength: saltLength ?? -1, hashAlgorithm: hash.wire as HashAlgorithm } }
        : { $case: "hashAlgorithm", value: hash.wire as HashAlgorithm };
    const what = `SignData(${quote(key.id)}, ${alg}${scheme === "pss" ? `, salt_length ${saltLength ?? -1}` : ""})`;
    const res = await expectOk(client.signData({ keyId: key.id, data: digest, signerOpts }, deadline()), what);
    expect(res.signature.length > 0, `${what} answered an empty signature (SPIRE: "plugin returned empty signature data")`);
    expect(
      res.keyFingerprint === key.publicKey.fingerprint,
      `${what} answered key_fingerprint ${quote(res.keyFingerprint)}, but the key's fingerprint is ${quote(key.publicKey.fingerprint)} ` +
        "(hosts refuse the signature: that is how they detect an overwritten key)",
    );
    const problem = signatureProblem(alg, key.key, { message, digest }, res.signature, saltLength);
    if (problem) fail(`${what}: ${problem}`);
  }

  const check = (name: string, run: () => Promise<void>, timeoutMs?: number) => defineCheck(harness, name, run, timeoutMs);
  const checks: Check[] = [];

  for (const type of types) {
    checks.push(
      check(`generate-key: ${type} answers the id, the type, ${keyTypes[type].label} in PKIX DER, and a fingerprint`, async () => {
        const key = await sharedKey(type);
        const client = await shared();
        const what = `GetPublicKey(${quote(key.id)})`;
        const got = accept(what, (await expectOk(client.getPublicKey({ keyId: key.id }, deadline()), what)).publicKey, key.id, type);
        expect(got.publicKey.pkixData.equals(key.publicKey.pkixData), `${what} answered other pkix_data than GenerateKey did`);
        expect(
          got.publicKey.fingerprint === key.publicKey.fingerprint,
          `${what} answered fingerprint ${quote(got.publicKey.fingerprint)}; GenerateKey answered ${quote(key.publicKey.fingerprint)}`,
        );
      }),
    );
  }

  const firstType = types[0];
  if (firstType === undefined) throw new Error("keyManagerSuite: keyTypes is empty");
  const secondType: KeyTypeName = types[1] ?? firstType;
  const anyType = firstType;

  checks.push(
    check("generate-key: an empty key id is refused with InvalidArgument", async () => {
      const c = await shared();
      await expectRpcError(c.generateKey({ keyId: "", keyType: keyTypes[anyType].wire as KeyType }, deadline()), Code.INVALID_ARGUMENT, `GenerateKey("", ${anyType})`);
    }),
    check("generate-key: an unspecified key type is refused with InvalidArgument", async () => {
      const c = await shared();
      await expectRpcError(c.generateKey({ keyId: "conformance-untyped", keyType: 0 as KeyType }, deadline()), Code.INVALID_ARGUMENT, 'GenerateKey("conformance-untyped", UNSPECIFIED_KEY_TYPE)');
    }),
    check("generate-key: an unknown key type is refused with InvalidArgument", async () => {
      const c = await shared();
      await expectRpcError(c.generateKey({ keyId: "conformance-alien", keyType: 99 as KeyType }, deadline()), Code.INVALID_ARGUMENT, 'GenerateKey("conformance-alien", key type 99)');
    }),
    check(`generate-key: generating an existing id again replaces the key and its fingerprint`, async () => {
      const c = await shared();
      const id = "conformance-overwritten";
      const first = await generate(c, id, firstType);
      const second = await generate(c, id, secondType);
      expect(!first.publicKey.pkixData.equals(second.publicKey.pkixData), `generating ${quote(id)} twice answered the same public key`);
      expect(
        first.publicKey.fingerprint !== second.publicKey.fingerprint,
        `generating ${quote(id)} twice answered the same fingerprint ${quote(first.publicKey.fingerprint)}: hosts could not tell the keys apart`,
      );
      const what = `GetPublicKey(${quote(id)})`;
      const now = accept(what, (await expectOk(c.getPublicKey({ keyId: id }, deadline()), what)).publicKey, id, secondType);
      expect(now.publicKey.pkixData.equals(second.publicKey.pkixData), `${what} still answers the replaced key`);
      // Signing now uses the new key and names its fingerprint; a host holding the old one refuses it.
      await signAndVerify(c, second, supportedAlgorithm(secondType));
    }),
    check("get-public-key: an unknown id answers NotFound (or no key, as SPIRE's built-ins do)", async () => {
      const c = await shared();
      const r = await outcome(c.getPublicKey({ keyId: "conformance-never-generated" }, deadline()));
      if (r.ok) {
        expect(r.value.publicKey === undefined, `GetPublicKey of an unknown id answered a key (${quote(r.value.publicKey?.id ?? "")})`);
      } else if (r.error.code !== Code.NOT_FOUND) {
        fail(`GetPublicKey of an unknown id failed with ${describeRpcError(r.error)}; expected NotFound`);
      }
    }),
    check("get-public-key: an empty key id is refused with InvalidArgument", async () => {
      const c = await shared();
      await expectRpcError(c.getPublicKey({ keyId: "" }, deadline()), Code.INVALID_ARGUMENT, 'GetPublicKey("")');
    }),
    check(
      "get-public-keys: a fresh plugin has none; then it lists every key generated, as generated",
      async () => {
        const session = await harness.launch();
        const c = clientOf(session);
        const before = await expectOk(c.getPublicKeys({}, deadline()), "GetPublicKeys on a fresh plugin");
        expect(
          before.publicKeys.length === 0,
          `GetPublicKeys on a freshly started plugin answered ${before.publicKeys.length} keys (${before.publicKeys.map((k) => quote(k.id)).join(", ")}); ` +
            "give the suite a config function that returns a clean state",
        );
        const made = await Promise.all(types.map((t) => generate(c, `conformance-list-${t.toLowerCase()}`, t)));
        const after = await expectOk(c.getPublicKeys({}, deadline()), "GetPublicKeys");
        const byId = new Map(after.publicKeys.map((k) => [k.id, k]));
        expect(
          after.publicKeys.length === made.length,
          `GetPublicKeys answered ${after.publicKeys.length} keys (${[...byId.keys()].map(quote).join(", ")}) after ${made.length} were generated`,
        );
        for (const key of made) {
          const listed = byId.get(key.id);
          expect(listed, `GetPublicKeys does not list ${quote(key.id)}`);
          accept(`GetPublicKeys entry ${quote(key.id)}`, listed, key.id, key.type);
          expect(listed.pkixData.equals(key.publicKey.pkixData), `GetPublicKeys lists other pkix_data for ${quote(key.id)} than GenerateKey answered`);
          expect(listed.fingerprint === key.publicKey.fingerprint, `GetPublicKeys lists another fingerprint for ${quote(key.id)} than GenerateKey answered`);
        }
        await session.stop();
      },
      60_000,
    ),
  );

  for (const type of types) {
    for (const alg of supportedAlgorithms(type)) {
      const pss = algorithm(alg).scheme === "pss";
      checks.push(
        check(`sign-data: ${type} ${alg}${pss ? ` (salt lengths ${pssSaltLengths.join(", ")})` : ""} verifies against the public key`, async () => {
          const [c, key] = await Promise.all([shared(), sharedKey(type)]);
          if (pss) for (const salt of pssSaltLengths) await signAndVerify(c, key, alg, salt);
          else await signAndVerify(c, key, alg);
        }),
      );
    }
  }

  checks.push(
    check("sign-data: key_fingerprint is the signing key's fingerprint", async () => {
      const [c, key] = await Promise.all([shared(), sharedKey(anyType)]);
      const alg = signatureAlgorithmsFor(anyType)[0]!;
      const res = await expectOk(
        c.signData({ keyId: key.id, data: digestOf(randomBytes(16), alg), signerOpts: { $case: "hashAlgorithm", value: algorithm(alg).hash.wire as HashAlgorithm } }, deadline()),
        `SignData(${quote(key.id)})`,
      );
      expect(res.keyFingerprint === key.publicKey.fingerprint, `SignData answered key_fingerprint ${quote(res.keyFingerprint)}; the key's fingerprint is ${quote(key.publicKey.fingerprint)}`);
    }),
    check("sign-data: an unknown key id answers NotFound", async () => {
      const c = await shared();
      await expectRpcError(
        c.signData({ keyId: "conformance-never-generated", data: randomBytes(32), signerOpts: { $case: "hashAlgorithm", value: 5 as HashAlgorithm } }, deadline()),
        Code.NOT_FOUND,
        'SignData("conformance-never-generated")',
      );
    }),
    check("sign-data: an empty key id is refused with InvalidArgument", async () => {
      const c = await shared();
      await expectRpcError(
        c.signData({ keyId: "", data: randomBytes(32), signerOpts: { $case: "hashAlgorithm", value: 5 as HashAlgorithm } }, deadline()),
        Code.INVALID_ARGUMENT,
        'SignData("")',
      );
    }),
    check("sign-data: missing signer options are refused with InvalidArgument", async () => {
      const [c, key] = await Promise.all([shared(), sharedKey(anyType)]);
      await expectRpcError(c.signData({ keyId: key.id, data: randomBytes(32), signerOpts: undefined }, deadline()), Code.INVALID_ARGUMENT, `SignData(${quote(key.id)}, no signer_opts)`);
    }),
    check("sign-data: an unspecified hash algorithm is refused with InvalidArgument", async () => {
      const [c, key] = await Promise.all([shared(), sharedKey(anyType)]);
      await expectRpcError(
        c.signData({ keyId: key.id, data: randomBytes(32), signerOpts: { $case: "hashAlgorithm", value: 0 as HashAlgorithm } }, deadline()),
        Code.INVALID_ARGUMENT,
        `SignData(${quote(key.id)}, UNSPECIFIED_HASH_ALGORITHM)`,
      );
    }),
  );

  if (options.batchSigner) {
    checks.push(
      ...batchSignerChecks({
        types,
        unsupported: (type) => new Set(options.unsupportedSignatureAlgorithms?.[type] ?? []),
        session: () => harness.shared(),
        sharedKey,
        deadline,
        check,
      }),
    );
  }

  if (options.persistent) {
    checks.push(
      check(
        "persistence: keys survive a restart of the plugin process",
        async () => {
          const config = await configText(plugin);
          const before = await harness.launch({ config });
          const made = await Promise.all(types.map((t) => generate(clientOf(before), `conformance-kept-${t.toLowerCase()}`, t)));
          const stopped = await before.stop();
          expect(stopped.exitAfterShutdownMs !== undefined, "the plugin did not exit within 2 s of Shutdown, so the restart could not be clean");
          const after = await harness.launch({ config });
          const c = clientOf(after);
          const listed = new Map((await expectOk(c.getPublicKeys({}, deadline()), "GetPublicKeys after a restart")).publicKeys.map((k) => [k.id, k]));
          for (const key of made) {
            const kept = listed.get(key.id);
            expect(kept, `after a restart with the same configuration, GetPublicKeys does not list ${quote(key.id)}`);
            expect(kept.pkixData.equals(key.publicKey.pkixData), `after a restart, ${quote(key.id)} is another key`);
            expect(kept.fingerprint === key.publicKey.fingerprint, `after a restart, ${quote(key.id)} has another fingerprint`);
            await signAndVerify(c, key, supportedAlgorithm(key.type));
          }
          await after.stop();
        },
        90_000,
      ),
    );
  }

  return defineSuite(`KeyManager (${options.side} side)`, harness, checks, {
    setup: async () => {
      // Generating the keys up front lets the slow ones (RSA 4096) be made side by side.
      await Promise.allSettled(types.map(sharedKey));
    },
    teardown: async () => {
      sharedKeys.clear();
    },
  });
}
