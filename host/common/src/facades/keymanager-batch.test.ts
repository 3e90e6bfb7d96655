/**
 * KeyManagerFacade.signMessages: the BatchSigner extension when the plugin
 * lists it at Init, SignData per message (hashed here) when it does not,
 * each against a real plugin process run by the catalog; and the answer
 * checks (count, fingerprint), splitting, and the cached Unimplemented
 * fallback against in-process servers.
 */
import { type KeyObject, constants, createHash, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { Code, RpcError, type ServiceRegistration, createClient, implement } from "@signet/proto";
import { BatchSignerService } from "@signet/proto/signet/plugin/keymanager/v1/batchsigner";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { Catalog } from "../catalog/index.js";
import { createLogger } from "../log/logger.js";
import { HashAlgorithm, KeyManagerFacade, KeyType, batchSignerLimits, batchSignerServiceName, keyManagerFacadeFor } from "./index.js";

const messagesOf = (n: number) => Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from(`tbs ${i} `), randomBytes(8)]));

function expectAllVerify(key: KeyObject, messages: Buffer[], signatures: Buffer[], hash = "sha256", options: Record<string, unknown> = {}) {
  expect(signatures).toHaveLength(messages.length);
  messages.forEach((m, i) => expect(verify(hash, m, { key, ...options }, signatures[i]!), `signature ${i}`).toBe(true));
}

describe("KeyManagerFacade.signMessages against plugin processes", () => {
  let file = "";
  const catalogs: Catalog[] = [];
  const log = createLogger({ level: "error", write: () => {} });

  beforeAll(async () => {
    file = await buildPlugin(join(__dirname, "../../../../test/fakes/plugins/batch-keymanager.ts"), "facade-batch-keymanager", "KeyManager");
  });
  afterAll(async () => {
    await Promise.all(catalogs.splice(0).map((c) => c.close()));
  });

  async function facade(mode: string, side: "server" | "agent" = "server") {
    const catalog = await Catalog.load([{ type: "KeyManager", name: "batch", source: { kind: "cmd", path: file }, args: [mode], data: { kind: "none" } }], {
      side,
      trustDomain: "example.org",
      log,
      liveness: false,
    });
    catalogs.push(catalog);
    const plugin = catalog.ofType("KeyManager")[0]!;
    return { plugin, km: keyManagerFacadeFor(plugin, side) };
  }

  it("uses the extension when the plugin lists it (SignData is off in this plugin), keeping order", async () => {
    const { plugin, km } = await facade("batch-only");
    expect(plugin.services.has(batchSignerServiceName)).toBe(true);
    const key = await km.generateKey("x509-CA-A", KeyType.EC_P256);
    const messages = messagesOf(500);
    expectAllVerify(key.publicKey, messages, await km.signMessages("x509-CA-A", messages, { hashAlgorithm: HashAlgorithm.SHA256 }));
    await expect(km.signData("x509-CA-A", Buffer.alloc(32), { hashAlgorithm: HashAlgorithm.SHA256 })).rejects.toThrow(/switched off/);
  });

  it("uses the extension on the agent side too, with RSA PSS", async () => {
    const { km } = await facade("batch-only", "agent");
    const key = await km.generateKey("agent-svid", KeyType.RSA_2048);
    const messages = messagesOf(5);
    const signatures = await km.signMessages("agent-svid", messages, { pss: { saltLength: -1, hashAlgorithm: HashAlgorithm.SHA384 } });
    expectAllVerify(key.publicKey, messages, signatures, "sha384", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  });

  it("falls back to SignData per message for a plugin without the extension, with the same results", async () => {
    const { plugin, km } = await facade("no-batch-signer");
    expect(plugin.services.has(batchSignerServiceName)).toBe(false);
    const key = await km.generateKey("k", KeyType.RSA_2048);
    const messages = messagesOf(40);
    const signatures = await km.signMessages("k", messages, { hashAlgorithm: HashAlgorithm.SHA512 });
    expectAllVerify(key.publicKey, messages, signatures, "sha512", { padding: constants.RSA_PKCS1_PADDING });
  });

  it("refuses a batch signed by another key instance (fingerprint mismatch)", async () => {
    const { km } = await facade("wrong-fingerprint");
    await km.generateKey("k", KeyType.EC_P256);
    await expect(km.signMessages("k", messagesOf(2), { hashAlgorithm: HashAlgorithm.SHA256 })).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: expect.stringMatching(/^keymanager\(batch\): fingerprint ".*0000" does not match/),
    });
  });

  it("passes the plugin's NotFound through, prefixed", async () => {
    const { km } = await facade("served");
    await expect(km.signMessages("never-made", messagesOf(1), { hashAlgorithm: HashAlgorithm.SHA256 })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: expect.stringMatching(/^keymanager\(batch\): no such key "never-made"/),
    });
  });
});

describe("KeyManagerFacade.signMessages answer checks", () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  async function serveInProcess(...regs: ServiceRegistration[]): Promise<Channel> {
    const socket = join(mkdtempSync(join(tmpdir(), "signet-facade-batch-")), "s.sock");
    const server = new Server();
    for (const r of regs) server.addService(r.definition, r.implementation);
    await new Promise<void>((res, rej) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    servers.push(server);
    return new Channel(`unix:${socket}`, credentials.createInsecure(), {});
  }

  /** A KeyManager with one P-256 key "k", whose BatchSigner behaves as `batch` says; counts calls. */
  function fakePlugin(batch: "ok" | "unimplemented" | "short") {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pkixData = publicKey.export({ type: "spki", format: "der" });
    const fingerprint = createHash("sha256").update(pkixData).digest("hex");
    const calls = { signData: 0, signMessages: [] as number[] };
    const km = implement(KeyManagerService, {
      async getPublicKey() {
        return { publicKey: { id: "k", type: KeyType.EC_P256, pkixData, fingerprint } };
      },
      async signData(req) {
        calls.signData++;
        // Signs the digest's bytes as a message (hash "null" = SHA-256 default for EC in OpenSSL); the test verifies the same way.
        return { signature: sign(null, req.data, { key: privateKey, dsaEncoding: "der" }), keyFingerprint: fingerprint };
      },
    });
    const bs = implement(BatchSignerService, {
      async signMessages(req) {
        calls.signMessages.push(req.messages.length);
        if (batch === "unimplemented") throw new RpcError(Code.UNIMPLEMENTED, "unknown service signet.plugin.keymanager.v1.BatchSigner");
        const signatures = req.messages.map((m) => sign("sha256", m, privateKey));
        return { signatures: batch === "short" ? signatures.slice(1) : signatures, keyFingerprint: fingerprint };
      },
    });
    return { regs: [km, bs], calls, publicKey };
  }

  async function facadeOver(batch: "ok" | "unimplemented" | "short", advertised?: boolean) {
    const fake = fakePlugin(batch);
    const ch = await serveInProcess(...fake.regs);
    const km = new KeyManagerFacade(createClient(KeyManagerService, ch), "keymanager(fake)", {
      client: createClient(BatchSignerService, ch),
      ...(advertised === undefined ? {} : { advertised: () => advertised }),
    });
    await km.getPublicKey("k");
    return { km, ...fake };
  }

  const sha256 = { hashAlgorithm: HashAlgorithm.SHA256 };

  it("splits a job bigger than one request's limits into several requests, in order", async () => {
    const { km, calls, publicKey } = await facadeOver("ok", true);
    const messages = messagesOf(batchSignerLimits.maxMessages * 2 + 10);
    expectAllVerify(publicKey, messages, await km.signMessages("k", messages, sha256));
    expect(calls.signMessages).toEqual([batchSignerLimits.maxMessages, batchSignerLimits.maxMessages, 10]);
    const big = Array.from({ length: 60 }, () => randomBytes(batchSignerLimits.maxMessageBytes));
    calls.signMessages.length = 0;
    expectAllVerify(publicKey, big, await km.signMessages("k", big, sha256));
    expect(calls.signMessages).toEqual([48, 12]);
    expect(calls.signData).toBe(0);
  });

  it("answers an empty batch without calling the plugin", async () => {
    const { km, calls } = await facadeOver("ok", true);
    expect(await km.signMessages("k", [], sha256)).toEqual([]);
    expect(calls).toEqual({ signData: 0, signMessages: [] });
  });

  it("refuses an answer with a signature count other than the message count", async () => {
    const { km } = await facadeOver("short", true);
    await expect(km.signMessages("k", messagesOf(3), sha256)).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: "keymanager(fake): plugin returned 2 signatures for 3 messages",
    });
  });

  it("without Init knowledge, tries the extension once and remembers Unimplemented", async () => {
    const { km, calls, publicKey } = await facadeOver("unimplemented");
    const first = messagesOf(3);
    const sigs = await km.signMessages("k", first, sha256);
    // The fallback sent SHA-256 digests to SignData; this fake signs those bytes as given with hash "null".
    first.forEach((m, i) => expect(verify(null, createHash("sha256").update(m).digest(), publicKey, sigs[i]!)).toBe(true));
    await km.signMessages("k", messagesOf(2), sha256);
    expect(calls).toEqual({ signData: 5, signMessages: [3] });
  });

  it("does not call the extension when Init did not list it", async () => {
    const { km, calls } = await facadeOver("ok", false);
    await km.signMessages("k", messagesOf(2), sha256);
    expect(calls).toEqual({ signData: 2, signMessages: [] });
  });

  it("signs a message over the per-request size limit through SignData", async () => {
    const { km, calls } = await facadeOver("ok", true);
    await km.signMessages("k", [randomBytes(batchSignerLimits.maxMessageBytes + 1)], sha256);
    expect(calls).toEqual({ signData: 1, signMessages: [] });
  });
});
