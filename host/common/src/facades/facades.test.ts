import { createHash, generateKeyPairSync, sign, verify } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { Code, RpcError, type ServiceRegistration, createClient, implement } from "@signet/proto";
import { NodeAttestorService as AgentNA } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { NodeAttestorService as ServerNA } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { afterEach, describe, expect, it } from "vitest";
import {
  AgentNodeAttestorFacade,
  HashAlgorithm,
  KeyManagerFacade,
  KeyType,
  ServerNodeAttestorFacade,
  WorkloadAttestorFacade,
} from "./index.js";

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

async function serveInProcess(...regs: ServiceRegistration[]): Promise<Channel> {
  const socket = join(mkdtempSync(join(tmpdir(), "signet-facade-")), "s.sock");
  const server = new Server();
  for (const r of regs) server.addService(r.definition, r.implementation);
  await new Promise<void>((res, rej) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  servers.push(server);
  return new Channel(`unix:${socket}`, credentials.createInsecure(), {});
}

describe("KeyManagerFacade", () => {
  function fakeKeyManager(opts: { lieAboutFingerprint?: boolean; wrongId?: boolean } = {}) {
    const keys = new Map<string, ReturnType<typeof generateKeyPairSync>>();
    const pub = (id: string) => {
      const pkix = keys.get(id)!.publicKey.export({ type: "spki", format: "der" });
      return { id: opts.wrongId ? `${id}-x` : id, type: KeyType.EC_P256, pkixData: pkix, fingerprint: createHash("sha256").update(pkix).digest("hex") };
    };
    return implement(KeyManagerService, {
      async generateKey(req) {
        keys.set(req.keyId, generateKeyPairSync("ec", { namedCurve: "P-256" }));
        return { publicKey: pub(req.keyId) };
      },
      async signData(req) {
        const k = keys.get(req.keyId)!;
        const signature = sign(null, req.data, k.privateKey);
        return { signature, keyFingerprint: opts.lieAboutFingerprint ? "not-it" : pub(req.keyId).fingerprint };
      },
    });
  }

  it("generates, signs a digest, and the signature verifies", async () => {
    const km = new KeyManagerFacade(createClient(KeyManagerService, await serveInProcess(fakeKeyManager())), "keymanager(fake)");
    const key = await km.generateKey("x509-CA-A", KeyType.EC_P256);
    expect(key.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const digest = createHash("sha256").update("hello").digest();
    const sig = await km.signData("x509-CA-A", digest, { hashAlgorithm: HashAlgorithm.SHA256 });
    expect(verify(null, digest, key.publicKey, sig)).toBe(true);
  });

  it("rejects a signature from a different key instance (fingerprint mismatch)", async () => {
    const km = new KeyManagerFacade(createClient(KeyManagerService, await serveInProcess(fakeKeyManager({ lieAboutFingerprint: true }))), "keymanager(fake)");
    await km.generateKey("k", KeyType.EC_P256);
    await expect(km.signData("k", Buffer.alloc(32), { hashAlgorithm: HashAlgorithm.SHA256 })).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: expect.stringMatching(/^keymanager\(fake\): fingerprint "not-it" does not match/),
    });
  });

  it("rejects an answer for another key id, and maps NotFound to undefined", async () => {
    const km = new KeyManagerFacade(createClient(KeyManagerService, await serveInProcess(fakeKeyManager({ wrongId: true }))), "keymanager(fake)");
    await expect(km.generateKey("k", KeyType.EC_P256)).rejects.toMatchObject({ code: Code.INTERNAL, message: expect.stringMatching(/key id "k-x"; expected "k"/) });
    const empty = new KeyManagerFacade(
      createClient(KeyManagerService, await serveInProcess(implement(KeyManagerService, { getPublicKey: async () => Promise.reject(new RpcError(Code.NOT_FOUND, "no such key")) }))),
      "keymanager(empty)",
    );
    expect(await empty.getPublicKey("nope")).toBeUndefined();
  });
});

describe("NodeAttestor facades", () => {
  it("relay a challenge round between the agent and server halves", async () => {
    const agentSide = implement(AgentNA, {
      async *aidAttestation(challenges) {
        yield { data: { $case: "payload", value: Buffer.from("node-42") } };
        for await (const c of challenges) yield { data: { $case: "challengeResponse", value: Buffer.from(`answer:${c.challenge.toString()}`) } };
      },
    });
    const serverSide = implement(ServerNA, {
      async *attest(requests) {
        let node = "";
        for await (const r of requests) {
          if (r.request?.$case === "payload") {
            node = r.request.value.toString();
            yield { response: { $case: "challenge", value: Buffer.from("nonce-1") } };
          } else if (r.request?.$case === "challengeResponse") {
            expect(r.request.value.toString()).toBe("answer:nonce-1");
            yield { response: { $case: "agentAttributes", value: { spiffeId: `spiffe://example.org/spire/agent/test/${node}`, selectorValues: ["a", "a", "b"], canReattest: true } } };
            return;
          }
        }
      },
    });
    const ch = await serveInProcess(agentSide, serverSide);
    const agent = new AgentNodeAttestorFacade(createClient(AgentNA, ch), "test");
    const server = new ServerNodeAttestorFacade(createClient(ServerNA, ch), "test");
    const attestation = await agent.begin();
    const result = await server.attest(attestation.payload, (c) => attestation.answer(c));
    attestation.close();
    expect(result).toEqual({
      agentId: "spiffe://example.org/spire/agent/test/node-42",
      selectors: [
        { type: "test", value: "a" },
        { type: "test", value: "b" },
      ],
      canReattest: true,
    });
  });

  it("treat an empty agent ID or an early close as Internal errors", async () => {
    const ch = await serveInProcess(
      implement(ServerNA, {
        async *attest(requests) {
          for await (const r of requests) {
            if (r.request?.value.toString() === "empty") yield { response: { $case: "agentAttributes", value: { spiffeId: "", selectorValues: [], canReattest: false } } };
            return;
          }
        },
      }),
    );
    const server = new ServerNodeAttestorFacade(createClient(ServerNA, ch), "test");
    await expect(server.attest(Buffer.from("empty"), async () => Buffer.alloc(0))).rejects.toMatchObject({ code: Code.INTERNAL, message: "nodeattestor(test): plugin response missing agent ID" });
    await expect(server.attest(Buffer.from("close"), async () => Buffer.alloc(0))).rejects.toMatchObject({ code: Code.INTERNAL, message: "nodeattestor(test): plugin closed stream unexpectedly" });
  });
});

describe("WorkloadAttestorFacade", () => {
  it("types selectors with the plugin name", async () => {
    const ch = await serveInProcess(implement(WorkloadAttestorService, { attest: async (r) => ({ selectorValues: [`uid:${r.pid}`] }) }));
    const wa = new WorkloadAttestorFacade(createClient(WorkloadAttestorService, ch), "unix");
    expect(await wa.attest(1000)).toEqual([{ type: "unix", value: "uid:1000" }]);
  });
});
