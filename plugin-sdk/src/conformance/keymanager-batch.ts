/**
 * Checks of Signet's BatchSigner extension (signet.plugin.keymanager.v1),
 * added to the KeyManager suite for plugins that claim to serve it: the Init
 * answer lists it; every message of a batch is signed with the requested
 * scheme, in order, each signature verifying with node:crypto over its own
 * message; the answer names the key's fingerprint; and bad requests get the
 * codes the proto promises (NotFound, InvalidArgument for the limits).
 */
import { type KeyObject, createHash, randomBytes } from "node:crypto";
import type { AsyncClient } from "@signet/proto";
import { BatchSignerService, type HashAlgorithm, type SignMessagesRequest } from "@signet/proto/signet/plugin/keymanager/v1/batchsigner";
import type { PublicKey } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { batchLimits } from "../keys/batch-signing.js";
import { Code, expect, expectOk, expectRpcError, fail, quote } from "./assert.js";
import type { PluginSession } from "./harness.js";
import { type KeyTypeName, type SignatureAlgorithm, algorithm, keyTypes, pssSaltLengths, signatureAlgorithmsFor, signatureProblem } from "./signatures.js";
import type { Check } from "./suite.js";

export const batchSignerServiceName = "signet.plugin.keymanager.v1.BatchSigner";

type BatchSignerClient = AsyncClient<typeof BatchSignerService>;

/** What the KeyManager suite shares with these checks. */
export interface BatchCheckContext {
  readonly types: readonly KeyTypeName[];
  readonly unsupported: (type: KeyTypeName) => ReadonlySet<SignatureAlgorithm>;
  readonly session: () => Promise<PluginSession>;
  readonly sharedKey: (type: KeyTypeName) => Promise<{ readonly id: string; readonly publicKey: PublicKey; readonly key: KeyObject }>;
  readonly deadline: () => { deadline: number };
  readonly check: (name: string, run: () => Promise<void>, timeoutMs?: number) => Check;
}

/** Messages of different lengths and contents, so a signature verifying over another's message shows. */
function distinctMessages(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.concat([Buffer.from(`message ${i}:`), randomBytes(16 + i)]));
}

function optsFor(alg: SignatureAlgorithm, saltLength?: number): SignMessagesRequest["signerOpts"] {
  const { scheme, hash } = algorithm(alg);
  return scheme === "pss"
    ? { $case: "pssOptions", value: { saltLength: saltLength ?? -1, hashAlgorithm: hash.wire as HashAlgorithm } }
    : { $case: "hashAlgorithm", value: hash.wire as HashAlgorithm };
}

export function batchSignerChecks(ctx: BatchCheckContext): Check[] {
  const client = async (): Promise<BatchSignerClient> => (await ctx.session()).client(BatchSignerService);
  const anyType = ctx.types[0]!;
  const ecType = ctx.types.find((t) => keyTypes[t].kind === "ec");
  const checks: Check[] = [];

  async function signAndVerifyBatch(type: KeyTypeName, alg: SignatureAlgorithm, saltLength?: number): Promise<void> {
    const [c, key] = await Promise.all([client(), ctx.sharedKey(type)]);
    const messages = distinctMessages(6);
    const what = `SignMessages(${quote(key.id)}, ${alg}${saltLength !== undefined ? `, salt_length ${saltLength}` : ""}, ${messages.length} messages)`;
    const res = await expectOk(c.signMessages({ keyId: key.id, messages, signerOpts: optsFor(alg, saltLength) }, ctx.deadline()), what);
    expect(res.signatures.length === messages.length, `${what} answered ${res.signatures.length} signatures for ${messages.length} messages`);
    expect(
      res.keyFingerprint === key.publicKey.fingerprint,
      `${what} answered key_fingerprint ${quote(res.keyFingerprint)}, but the key's fingerprint is ${quote(key.publicKey.fingerprint)}`,
    );
    const hash = algorithm(alg).hash.node;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const signature = res.signatures[i]!;
      const problem = signatureProblem(alg, key.key, { message, digest: createHash(hash).update(message).digest() }, signature, saltLength);
      if (!problem) continue;
      const other = messages.findIndex((m, j) => j !== i && !signatureProblem(alg, key.key, { message: m, digest: createHash(hash).update(m).digest() }, signature, saltLength));
      if (other >= 0) fail(`${what}: signature ${i} is the signature of message ${other}; signatures must come in request order`);
      fail(`${what}: signature ${i}: ${problem.replace("SignData's data is already the digest and must be signed as it is", "SignMessages sends whole messages, hashed once by the plugin")}`);
    }
  }

  checks.push(
    ctx.check(`batch-sign: Init lists ${batchSignerServiceName}`, async () => {
      const s = await ctx.session();
      expect(s.services.has(batchSignerServiceName), `Init answered [${[...s.services].join(", ")}], without ${batchSignerServiceName}: Signet hosts would fall back to SignData`);
    }),
  );

  for (const type of ctx.types) {
    const unsupported = ctx.unsupported(type);
    for (const alg of signatureAlgorithmsFor(type).filter((a) => !unsupported.has(a))) {
      const pss = algorithm(alg).scheme === "pss";
      checks.push(
        ctx.check(`batch-sign: ${type} ${alg}${pss ? ` (salt lengths ${pssSaltLengths.join(", ")})` : ""}: each signature verifies over its message, in order`, async () => {
          if (pss) for (const salt of pssSaltLengths) await signAndVerifyBatch(type, alg, salt);
          else await signAndVerifyBatch(type, alg);
        }),
      );
    }
  }

  const sha256 = { $case: "hashAlgorithm" as const, value: 5 as HashAlgorithm };
  const refused = (name: string, code: Code, request: () => Promise<SignMessagesRequest>, timeoutMs?: number) =>
    ctx.check(
      name,
      async () => {
        const req = await request();
        await expectRpcError((await client()).signMessages(req, ctx.deadline()), code, `SignMessages(${quote(req.keyId)}, ${req.messages.length} messages)`);
      },
      timeoutMs,
    );
  // No default parameter: `undefined` (no signer options) is a case of its own.
  const withKey = async (messages: Buffer[], signerOpts: SignMessagesRequest["signerOpts"]): Promise<SignMessagesRequest> => ({
    keyId: (await ctx.sharedKey(anyType)).id,
    messages,
    signerOpts,
  });

  checks.push(
    ctx.check("batch-sign: an empty batch answers no signatures and the key's fingerprint", async () => {
      const [c, key] = await Promise.all([client(), ctx.sharedKey(anyType)]);
      const what = `SignMessages(${quote(key.id)}, no messages)`;
      const res = await expectOk(c.signMessages({ keyId: key.id, messages: [], signerOpts: sha256 }, ctx.deadline()), what);
      expect(res.signatures.length === 0, `${what} answered ${res.signatures.length} signatures`);
      expect(res.keyFingerprint === key.publicKey.fingerprint, `${what} answered key_fingerprint ${quote(res.keyFingerprint)}; expected ${quote(key.publicKey.fingerprint)}`);
    }),
    ctx.check(`batch-sign: a batch of exactly ${batchLimits.maxMessages} messages is signed whole`, async () => {
      const [c, key] = await Promise.all([client(), ctx.sharedKey(ecType ?? anyType)]);
      const alg = signatureAlgorithmsFor(ecType ?? anyType)[0]!;
      const messages = Array.from({ length: batchLimits.maxMessages }, (_, i) => Buffer.from(`m${i}`));
      const what = `SignMessages(${quote(key.id)}, ${messages.length} messages)`;
      const res = await expectOk(c.signMessages({ keyId: key.id, messages, signerOpts: optsFor(alg) }, ctx.deadline()), what);
      expect(res.signatures.length === messages.length, `${what} answered ${res.signatures.length} signatures`);
      const last = messages.length - 1;
      const problem = signatureProblem(alg, key.key, { message: messages[last]!, digest: createHash(algorithm(alg).hash.node).update(messages[last]!).digest() }, res.signatures[last]!);
      if (problem) fail(`${what}: the last signature: ${problem}`);
    }, 60_000),
    refused("batch-sign: an unknown key id answers NotFound", Code.NOT_FOUND, async () => ({ keyId: "conformance-never-generated", messages: distinctMessages(2), signerOpts: sha256 })),
    refused("batch-sign: an empty key id is refused with InvalidArgument", Code.INVALID_ARGUMENT, async () => ({ keyId: "", messages: distinctMessages(1), signerOpts: sha256 })),
    refused("batch-sign: missing signer options are refused with InvalidArgument", Code.INVALID_ARGUMENT, () => withKey(distinctMessages(1), undefined)),
    refused("batch-sign: an unspecified hash algorithm is refused with InvalidArgument", Code.INVALID_ARGUMENT, () =>
      withKey(distinctMessages(1), { $case: "hashAlgorithm", value: 0 as HashAlgorithm }),
    ),
    refused(`batch-sign: more than ${batchLimits.maxMessages} messages are refused with InvalidArgument`, Code.INVALID_ARGUMENT, () =>
      withKey(Array.from({ length: batchLimits.maxMessages + 1 }, () => Buffer.from("m")), sha256),
    ),
    refused(`batch-sign: a message over ${batchLimits.maxMessageBytes} bytes is refused with InvalidArgument`, Code.INVALID_ARGUMENT, () =>
      withKey([Buffer.from("fine"), Buffer.alloc(batchLimits.maxMessageBytes + 1, 1)], sha256),
    ),
    refused(`batch-sign: messages over ${batchLimits.maxTotalBytes} bytes in all are refused with InvalidArgument`, Code.INVALID_ARGUMENT, () =>
      withKey(Array.from({ length: Math.floor(batchLimits.maxTotalBytes / batchLimits.maxMessageBytes) + 1 }, () => Buffer.alloc(batchLimits.maxMessageBytes, 2)), sha256),
    ),
  );
  if (ecType) {
    checks.push(
      refused("batch-sign: PSS options with an EC key are refused with InvalidArgument", Code.INVALID_ARGUMENT, async () => ({
        keyId: (await ctx.sharedKey(ecType)).id,
        messages: distinctMessages(1),
        signerOpts: { $case: "pssOptions", value: { saltLength: -1, hashAlgorithm: 5 as HashAlgorithm } },
      })),
    );
  }
  return checks;
}
