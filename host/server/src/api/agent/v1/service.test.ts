import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { Catalog, ServerNodeAttestorFacade, createLogger } from "@signet/host-common";
import { type AsyncClient, Code, RpcError, createClient } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";
import { NodeAttestorService } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { SpiffeId, TrustDomain, createCsr } from "@signet/spiffe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type TestApiServer, startApiServer } from "../../../../../../test/fakes/api-server.js";
import { attestOverStream, attestParams } from "../../../../../../test/fakes/attest-client.js";
import { buildPlugin } from "../../../../../../test/fakes/build-plugin.js";
import { ManualClock } from "../../../../../../test/fakes/clock.js";
import { type TestDataStore, startTestDataStore } from "../../../../../../test/fakes/datastore.js";
import { InMemoryServerCa } from "../../../../../../test/fakes/memory-server-ca.js";
import { type Caller, localCaller } from "../../rpccontext/caller.js";
import { type AgentServiceDeps, agentHandlers } from "./service.js";
import { permissionDeniedReason } from "@signet/host-common";

const td = TrustDomain.parse("example.org");
const lines: string[] = [];
const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const ca = new InMemoryServerCa({ trustDomain: "example.org", now: () => clock.now() });

let store: TestDataStore;
let catalog: Catalog;
let api: TestApiServer;
let client: AsyncClient<typeof AgentService>;
let agentIdAsSelector = false;

function agentCaller(agentId: string): Caller {
  return { ...localCaller("tcp:10.0.0.1:5000"), local: false, agentId: SpiffeId.parse(agentId) };
}

function csr(): Buffer {
  return createCsr({ privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey });
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RpcError);
    return e as RpcError;
  }
  throw new Error("call unexpectedly succeeded");
}

async function nodeCount(): Promise<number> {
  return (await store.dataStore.countAttestedNodes({ filter: undefined })).count;
}

async function tokenExists(value: string): Promise<boolean> {
  try {
    await store.dataStore.fetchJoinToken({ value });
    return true;
  } catch (e) {
    if (e instanceof RpcError && e.code === Code.NOT_FOUND) return false;
    throw e;
  }
}

beforeAll(async () => {
  store = await startTestDataStore();
  const plugin = await buildPlugin(
    join(__dirname, "../../../../../../test/fakes/plugins/test-server-nodeattestor.ts"),
    "test-server-nodeattestor",
    "NodeAttestor",
  );
  catalog = await Catalog.load(
    [{ type: "NodeAttestor", name: "test", source: { kind: "cmd", path: plugin }, args: [], data: { kind: "inline", text: "" } }],
    { side: "server", trustDomain: td.name, log, liveness: false },
  );
  const managed = catalog.get("NodeAttestor", "test")!;
  const attestors = new Map([["test", new ServerNodeAttestorFacade(managed.client(NodeAttestorService), "test")]]);
  const deps: AgentServiceDeps = {
    trustDomain: td,
    dataStore: store.dataStore,
    ca,
    nodeAttestor: (name) => attestors.get(name),
    log,
    now: () => clock.now(),
    get agentIdAsSelector() {
      return agentIdAsSelector;
    },
  };
  api = await startApiServer([{ definition: AgentService, impl: agentHandlers(deps) }], localCaller());
  client = createClient(AgentService, api.channel);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await catalog?.close();
  await store?.close();
});

beforeEach(() => {
  api.caller = localCaller();
  agentIdAsSelector = false;
});

describe("AttestAgent with a join token", () => {
  it("issues the agent SVID, records the node and consumes the token", async () => {
    const token = await client.createJoinToken({ ttl: 600, token: "", agentId: undefined });
    expect(token.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(token.expiresAt).toBe(BigInt(clock.now().getTime() / 1000 + 600));

    const { result, challenges } = await attestOverStream(client, attestParams("join_token", token.value, csr()));
    const agentId = `spiffe://example.org/spire/agent/join_token/${token.value}`;
    expect(challenges).toBe(0);
    expect(result.reattestable).toBe(false);
    expect(result.svid?.id).toEqual({ trustDomain: "example.org", path: `/spire/agent/join_token/${token.value}` });
    const leaf = new X509Certificate(result.svid!.certChain[0]!);
    expect(leaf.subjectAltName).toBe(`URI:${agentId}`);
    expect(leaf.verify(new X509Certificate(ca.rootCert).publicKey)).toBe(true);
    expect(result.svid!.expiresAt).toBe(BigInt(Math.floor(new Date(leaf.validTo).getTime() / 1000)));

    const { node } = await store.dataStore.fetchAttestedNode({ spiffeId: agentId });
    expect(node).toMatchObject({
      attestationDataType: "join_token",
      certSerialNumber: BigInt(`0x${leaf.serialNumber}`).toString(),
      certNotAfter: result.svid!.expiresAt,
      newCertSerialNumber: "",
      canReattest: false,
      selectors: [],
    });
    expect(await tokenExists(token.value)).toBe(false);
  });

  it("refuses a replayed token and changes nothing", async () => {
    const { value } = await client.createJoinToken({ ttl: 600, token: "replay-me", agentId: undefined });
    await attestOverStream(client, attestParams("join_token", value, csr()));
    const before = await nodeCount();
    const err = await rejection(attestOverStream(client, attestParams("join_token", value, csr())));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toBe("failed to attest: join token does not exist or has already been used");
    expect(await nodeCount()).toBe(before);
  });

  it("refuses an unknown token, and bytes that are not UTF-8 even when their repair would match one", async () => {
    await client.createJoinToken({ ttl: 600, token: "a\uFFFD", agentId: undefined });
    for (const payload of [Buffer.from("never-issued"), Buffer.from([0x61, 0xff])]) {
      const err = await rejection(attestOverStream(client, attestParams("join_token", payload, csr())));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.message).toBe("failed to attest: join token does not exist or has already been used");
    }
    expect(await tokenExists("a\uFFFD")).toBe(true);
  });

  it("refuses an expired token, and the token is gone afterwards", async () => {
    const { value } = await client.createJoinToken({ ttl: 1, token: "short-lived", agentId: undefined });
    clock.advance(2_000);
    const before = await nodeCount();
    const err = await rejection(attestOverStream(client, attestParams("join_token", value, csr())));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toBe("join token expired");
    expect(await tokenExists(value)).toBe(false);
    expect(await nodeCount()).toBe(before);
  });

  it("refuses a CSR that does not parse without burning the token", async () => {
    const { value } = await client.createJoinToken({ ttl: 600, token: "keep-me", agentId: undefined });
    for (const bad of [Buffer.from("not a csr"), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), csr().subarray(0, 40)]) {
      const err = await rejection(attestOverStream(client, attestParams("join_token", value, bad)));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.message).toMatch(/^failed to parse CSR: /);
    }
    expect(await tokenExists(value)).toBe(true);
    expect((await store.dataStore.fetchAttestedNode({ spiffeId: `spiffe://example.org/spire/agent/join_token/${value}` }).catch((e) => e)).code).toBe(
      Code.NOT_FOUND,
    );
  });

  it("accepts a CSR whose self-signature is wrong, as SPIRE only uses its key", async () => {
    const { value } = await client.createJoinToken({ ttl: 600, token: "mis-signed", agentId: undefined });
    const signer = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const request = createCsr({ privateKey: signer, spki: other.export({ type: "spki", format: "der" }) });
    const { result } = await attestOverStream(client, attestParams("join_token", value, request));
    const leaf = new X509Certificate(result.svid!.certChain[0]!);
    expect(leaf.publicKey.export({ type: "spki", format: "der" }).equals(other.export({ type: "spki", format: "der" }))).toBe(true);
  });
});

describe("AttestAgent first message", () => {
  const cases: Array<[string, Parameters<typeof attestOverStream>[1], string]> = [
    ["a challenge response first", { step: { $case: "challengeResponse", value: Buffer.from("x") } }, "malformed param: missing params"],
    ["no step", { step: undefined }, "malformed param: missing params"],
    ["no attestation data", { step: { $case: "params", value: { data: undefined, params: { csr: Buffer.from([1]) } } } }, "malformed param: missing attestation data"],
    [
      "no SVID params",
      { step: { $case: "params", value: { data: { type: "join_token", payload: Buffer.from("t") }, params: undefined } } },
      "malformed param: missing X509-SVID parameters",
    ],
    ["an empty CSR", attestParams("join_token", "t", Buffer.alloc(0)), "malformed param: missing CSR"],
    ["an empty type", attestParams("", "t", Buffer.from([1])), "malformed param: missing attestation data type"],
    ["an empty payload", attestParams("join_token", "", Buffer.from([1])), "malformed param: missing attestation data payload"],
    ["nothing at all", undefined, "failed to receive request from stream: EOF"],
  ];
  for (const [what, first, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await rejection(attestOverStream(client, first));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.message).toBe(message);
    });
  }

  it("refuses an attestor that is not configured", async () => {
    const err = await rejection(attestOverStream(client, attestParams("aws_iid", "{}", csr())));
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect(err.message).toBe('error getting node attestor: could not find node attestor type "aws_iid"');
  });
});

describe("AttestAgent with a NodeAttestor plugin", () => {
  it("relays the plugin's challenge and stores deduplicated node selectors", async () => {
    const { result, challenges } = await attestOverStream(client, attestParams("test", "node-1", csr()));
    expect(challenges).toBe(1);
    expect(result.reattestable).toBe(false);
    expect(result.svid?.id).toEqual({ trustDomain: "example.org", path: "/spire/agent/test/node-1" });
    const { node } = await store.dataStore.fetchAttestedNode({ spiffeId: "spiffe://example.org/spire/agent/test/node-1" });
    expect(node?.attestationDataType).toBe("test");
    expect(node?.selectors).toEqual([
      { type: "test", value: "group:nodes" },
      { type: "test", value: "name:node-1" },
    ]);
  });

  it("runs several challenge rounds", async () => {
    const { challenges } = await attestOverStream(client, attestParams("test", "two-rounds", csr()));
    expect(challenges).toBe(2);
  });

  it("adds the spiffe_id selector when agent_spiffe_id_as_selector is on", async () => {
    agentIdAsSelector = true;
    await attestOverStream(client, attestParams("test", "node-sel", csr()));
    const { selectors } = await store.dataStore.getNodeSelectors({ spiffeId: "spiffe://example.org/spire/agent/test/node-sel" });
    expect(selectors).toContainEqual({ type: "spiffe_id", value: "spiffe://example.org/spire/agent/test/node-sel" });
  });

  it("stores can_reattest and re-attests an existing node with a fresh serial", async () => {
    const first = await attestOverStream(client, attestParams("test", "re-node", csr()));
    expect(first.result.reattestable).toBe(true);
    const id = "spiffe://example.org/spire/agent/test/re-node";
    await store.dataStore.updateAttestedNode({
      node: { ...(await store.dataStore.fetchAttestedNode({ spiffeId: id })).node!, newCertSerialNumber: "123", newCertNotAfter: 5n },
      inputMask: undefined,
    });
    const second = await attestOverStream(client, attestParams("test", "re-node", csr()));
    const { node } = await store.dataStore.fetchAttestedNode({ spiffeId: id });
    const serial = BigInt(`0x${new X509Certificate(second.result.svid!.certChain[0]!).serialNumber}`).toString();
    expect(node).toMatchObject({ certSerialNumber: serial, newCertSerialNumber: "", newCertNotAfter: 0n, canReattest: true });
  });

  it("passes the plugin's refusal through with its code", async () => {
    const before = await nodeCount();
    const wrong = await rejection(attestOverStream(client, attestParams("test", "node-2", csr()), () => Buffer.from("wrong")));
    expect(wrong.code).toBe(Code.PERMISSION_DENIED);
    expect(wrong.message).toBe("nodeattestor(test): challenge response does not match");
    const garbage = await rejection(attestOverStream(client, attestParams("test", Buffer.from([0xff, 0x00, 0x1b]), csr())));
    expect(garbage.code).toBe(Code.INVALID_ARGUMENT);
    expect(garbage.message).toBe("nodeattestor(test): malformed payload");
    expect(await nodeCount()).toBe(before);
  });

  it("fails when the agent hangs up instead of answering", async () => {
    const err = await rejection(attestOverStream(client, attestParams("test", "node-3", csr()), () => undefined));
    expect(err.code).toBe(Code.INTERNAL);
    expect(err.message).toBe("failed to receive challenge from agent: EOF");
  });

  it("refuses the server's own ID and a missing agent ID", async () => {
    const server = await rejection(attestOverStream(client, attestParams("test", "server", csr())));
    expect(server.code).toBe(Code.INTERNAL);
    expect(server.message).toBe("agent ID cannot collide with the server ID");
    const noid = await rejection(attestOverStream(client, attestParams("test", "noid", csr())));
    expect(noid.code).toBe(Code.INTERNAL);
    expect(noid.message).toBe("nodeattestor(test): plugin response missing agent ID");
  });

  it("only warns when the agent ID is outside the attestor's namespace", async () => {
    lines.length = 0;
    const { result } = await attestOverStream(client, attestParams("test", "outsider", csr()));
    expect(result.svid?.id?.path).toBe("/elsewhere/outsider");
    expect(lines.some((l) => l.includes("The node attestor produced an invalid agent ID"))).toBe(true);
  });

  it("refuses a banned agent and leaves its record alone", async () => {
    await attestOverStream(client, attestParams("test", "banned-node", csr()));
    const id = "spiffe://example.org/spire/agent/test/banned-node";
    await client.banAgent({ id: { trustDomain: "example.org", path: "/spire/agent/test/banned-node" } });
    const before = (await store.dataStore.fetchAttestedNode({ spiffeId: id })).node;
    const err = await rejection(attestOverStream(client, attestParams("test", "banned-node", csr())));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toBe("failed to attest: agent is banned");
    expect((await store.dataStore.fetchAttestedNode({ spiffeId: id })).node).toEqual(before);
  });
});

describe("agent records", () => {
  const agentPath = "/spire/agent/test/keep-1";
  const id = { trustDomain: "example.org", path: agentPath };

  beforeAll(async () => {
    await attestOverStream(client, attestParams("test", "keep-1", csr()));
  });

  it("gets an agent, with and without an output mask", async () => {
    const agent = await client.getAgent({ id, outputMask: undefined });
    expect(agent).toMatchObject({ id, attestationType: "test", banned: false, canReattest: false });
    expect(agent.selectors).toHaveLength(2);
    const masked = await client.getAgent({
      id,
      outputMask: {
        attestationType: false,
        x509svidSerialNumber: true,
        x509svidExpiresAt: false,
        selectors: false,
        banned: false,
        canReattest: false,
        agentVersion: false,
      },
    });
    expect(masked).toEqual({ ...agent, attestationType: "", x509svidExpiresAt: 0n, selectors: [] });
  });

  it("refuses IDs that are not agents of this trust domain", async () => {
    const cases: Array<[Parameters<typeof client.getAgent>[0]["id"], string]> = [
      [undefined, "invalid agent ID: request must specify SPIFFE ID"],
      [{ trustDomain: "other.org", path: agentPath }, `invalid agent ID: "spiffe://other.org${agentPath}" is not a member of trust domain "example.org"`],
      [{ trustDomain: "example.org", path: "/workload" }, 'invalid agent ID: "spiffe://example.org/workload" is not an agent in trust domain "example.org"; path is not in the agent namespace'],
      [{ trustDomain: "example.org", path: "" }, 'invalid agent ID: "spiffe://example.org" is not an agent in trust domain "example.org"; path is empty'],
      [{ trustDomain: "Example.org", path: agentPath }, "invalid agent ID: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores"],
      [{ trustDomain: "example.org", path: "spire/agent/x" }, "invalid agent ID: path must have a leading slash"],
    ];
    for (const [bad, message] of cases) {
      for (const call of [
        () => client.getAgent({ id: bad, outputMask: undefined }),
        () => client.deleteAgent({ id: bad }),
        () => client.banAgent({ id: bad }),
      ]) {
        const err = await rejection(call());
        expect(err.code).toBe(Code.INVALID_ARGUMENT);
        expect(err.message).toBe(message);
      }
    }
  });

  it("answers NotFound for unknown agents", async () => {
    const unknown = { trustDomain: "example.org", path: "/spire/agent/test/nobody" };
    for (const call of [
      () => client.getAgent({ id: unknown, outputMask: undefined }),
      () => client.deleteAgent({ id: unknown }),
      () => client.banAgent({ id: unknown }),
    ]) {
      const err = await rejection(call());
      expect(err.code).toBe(Code.NOT_FOUND);
      expect(err.message).toBe("agent not found");
    }
  });

  it("counts and lists with filters, masks and pages", async () => {
    const all = (await client.listAgents({ filter: undefined, outputMask: undefined, pageSize: 0, pageToken: "" })).agents;
    expect((await client.countAgents({ filter: undefined })).count).toBe(all.length);
    const filter = { byAttestationType: "join_token", bySelectorMatch: undefined, byBanned: undefined, byCanReattest: undefined, byExpiresBefore: "" };
    const joined = await client.listAgents({ filter, outputMask: undefined, pageSize: 0, pageToken: "" });
    expect(joined.agents.length).toBeGreaterThan(0);
    expect(joined.agents.every((a) => a.attestationType === "join_token")).toBe(true);
    expect((await client.countAgents({ filter })).count).toBe(joined.agents.length);

    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listAgents({ filter: undefined, outputMask: undefined, pageSize: 2, pageToken });
      expect(page.agents.length).toBeLessThanOrEqual(2);
      seen.push(...page.agents.map((a) => a.id!.path));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen.sort()).toEqual(all.map((a) => a.id!.path).sort());

    const bySelector = await client.listAgents({
      filter: { ...filter, byAttestationType: "", bySelectorMatch: { selectors: [{ type: "test", value: "name:keep-1" }], match: 3 } },
      outputMask: undefined,
      pageSize: 0,
      pageToken: "",
    });
    expect(bySelector.agents.map((a) => a.id!.path)).toEqual([agentPath]);
    const badSelector = await rejection(
      client.countAgents({ filter: { ...filter, bySelectorMatch: { selectors: [{ type: "a:b", value: "c" }], match: 0 } } }),
    );
    expect(badSelector.code).toBe(Code.INVALID_ARGUMENT);
    expect(badSelector.message).toBe("failed to parse selectors: selector type contains ':'");
  });

  it("filters by expiry with Go's time layout and ignores text it cannot parse", async () => {
    const none = { byAttestationType: "", bySelectorMatch: undefined, byBanned: undefined, byCanReattest: undefined };
    const total = (await client.countAgents({ filter: undefined })).count;
    const count = async (byExpiresBefore: string) => (await client.countAgents({ filter: { ...none, byExpiresBefore } })).count;
    expect(await count("2020-01-01 00:00:00 +0000 +00")).toBe(0);
    expect(await count("2099-01-01 00:00:00 +0000 +00")).toBe(total);
    expect(await count("next tuesday")).toBe(total);
    expect(await count("2099-02-30 00:00:00 +0000 +00")).toBe(total);
  });

  it("bans an agent (empty serials) and deletes it", async () => {
    await attestOverStream(client, attestParams("test", "rec-2", csr()));
    const rec2 = { trustDomain: "example.org", path: "/spire/agent/test/rec-2" };
    await client.banAgent({ id: rec2 });
    const banned = await client.getAgent({ id: rec2, outputMask: undefined });
    expect(banned).toMatchObject({ banned: true, x509svidSerialNumber: "" });
    const onlyBanned = await client.listAgents({
      filter: { byAttestationType: "", bySelectorMatch: undefined, byBanned: true, byCanReattest: undefined, byExpiresBefore: "" },
      outputMask: undefined,
      pageSize: 0,
      pageToken: "",
    });
    expect(onlyBanned.agents.every((a) => a.banned)).toBe(true);
    expect(onlyBanned.agents.map((a) => a.id!.path)).toContain(rec2.path);
    await client.deleteAgent({ id: rec2 });
    expect((await rejection(client.getAgent({ id: rec2, outputMask: undefined }))).code).toBe(Code.NOT_FOUND);
    // Deleted, it may attest again.
    await attestOverStream(client, attestParams("test", "rec-2", csr()));
  });
});

describe("RenewAgent and PostStatus", () => {
  let agentId = "";

  beforeAll(async () => {
    const { value } = await client.createJoinToken({ ttl: 600, token: "renewer", agentId: undefined });
    await attestOverStream(client, attestParams("join_token", value, csr()));
    agentId = `spiffe://example.org/spire/agent/join_token/${value}`;
  });

  it("issues a new SVID and stores it as the pending serial", async () => {
    api.caller = agentCaller(agentId);
    const before = (await store.dataStore.fetchAttestedNode({ spiffeId: agentId })).node!;
    const { svid } = await client.renewAgent({ params: { csr: csr() } });
    const leaf = new X509Certificate(svid!.certChain[0]!);
    expect(leaf.subjectAltName).toBe(`URI:${agentId}`);
    const after = (await store.dataStore.fetchAttestedNode({ spiffeId: agentId })).node!;
    expect(after.certSerialNumber).toBe(before.certSerialNumber);
    expect(after.newCertSerialNumber).toBe(BigInt(`0x${leaf.serialNumber}`).toString());
    expect(after.newCertNotAfter).toBe(svid!.expiresAt);
  });

  it("tells a re-attestable agent to re-attest, with SPIRE's details", async () => {
    await attestOverStream(client, attestParams("test", "re-renew", csr()));
    api.caller = agentCaller("spiffe://example.org/spire/agent/test/re-renew");
    const err = await rejection(client.renewAgent({ params: { csr: csr() } }));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toBe("agent must reattest instead of renew");
    expect(permissionDeniedReason(err.metadata)).toBe(PermissionDeniedDetails_Reason.AGENT_MUST_REATTEST);
  });

  it("refuses bad renewals", async () => {
    api.caller = agentCaller(agentId);
    const noParams = await rejection(client.renewAgent({ params: undefined }));
    expect([noParams.code, noParams.message]).toEqual([Code.INVALID_ARGUMENT, "params cannot be nil"]);
    const noCsr = await rejection(client.renewAgent({ params: { csr: Buffer.alloc(0) } }));
    expect([noCsr.code, noCsr.message]).toEqual([Code.INVALID_ARGUMENT, "missing CSR"]);
    const badCsr = await rejection(client.renewAgent({ params: { csr: Buffer.from("garbage") } }));
    expect(badCsr.code).toBe(Code.INVALID_ARGUMENT);
    expect(badCsr.message).toMatch(/^failed to parse CSR: /);
    api.caller = agentCaller("spiffe://example.org/spire/agent/test/gone");
    const gone = await rejection(client.renewAgent({ params: { csr: csr() } }));
    expect([gone.code, gone.message]).toEqual([Code.NOT_FOUND, "agent not found"]);
    api.caller = localCaller();
    const notAgent = await rejection(client.renewAgent({ params: { csr: csr() } }));
    expect([notAgent.code, notAgent.message]).toEqual([Code.INTERNAL, "caller ID missing from request context"]);
  });

  it("stores the agent version and refuses one over 255 bytes", async () => {
    api.caller = agentCaller(agentId);
    await client.postStatus({ currentBundleSerial: 7n, agentVersion: "1.15.3" });
    expect((await store.dataStore.fetchAttestedNode({ spiffeId: agentId })).node?.agentVersion).toBe("1.15.3");
    const err = await rejection(client.postStatus({ currentBundleSerial: 0n, agentVersion: "x".repeat(256) }));
    expect([err.code, err.message]).toEqual([Code.INVALID_ARGUMENT, "agent version is too long (max 255 characters)"]);
    expect((await store.dataStore.fetchAttestedNode({ spiffeId: agentId })).node?.agentVersion).toBe("1.15.3");
  });
});

describe("CreateJoinToken", () => {
  it("requires a positive ttl", async () => {
    for (const ttl of [0, -5]) {
      const err = await rejection(client.createJoinToken({ ttl, token: "", agentId: undefined }));
      expect([err.code, err.message]).toEqual([Code.INVALID_ARGUMENT, "ttl is required, you must provide one"]);
    }
  });

  it("refuses an agent_id that is not a workload ID of the trust domain, before storing the token", async () => {
    const cases: Array<[{ trustDomain: string; path: string }, string]> = [
      [{ trustDomain: "example.org", path: "/spire/agent/x" }, 'invalid agent ID: "spiffe://example.org/spire/agent/x" is not a workload in trust domain "example.org"; path is in the reserved namespace'],
      [{ trustDomain: "other.org", path: "/node" }, 'invalid agent ID: "spiffe://other.org/node" is not a member of trust domain "example.org"'],
      [{ trustDomain: "example.org", path: "/node/" }, "invalid agent ID: path cannot have a trailing slash"],
    ];
    for (const [agentId, message] of cases) {
      const err = await rejection(client.createJoinToken({ ttl: 60, token: "never-stored", agentId }));
      expect([err.code, err.message]).toEqual([Code.INVALID_ARGUMENT, message]);
    }
    expect(await tokenExists("never-stored")).toBe(false);
  });

  it("creates the entry that names the token's agent", async () => {
    const { value } = await client.createJoinToken({ ttl: 60, token: "with-entry", agentId: { trustDomain: "example.org", path: "/node/a" } });
    const parent = `spiffe://example.org/spire/agent/join_token/${value}`;
    const entries = [];
    for await (const page of store.dataStore.listEntries({ filter: undefined, page: undefined })) entries.push(...page.entries);
    const entry = entries.find((e) => e.spiffeId?.path === "/node/a");
    expect(entry).toMatchObject({
      parentId: { trustDomain: "example.org", path: "/spire/agent/join_token/with-entry" },
      selectors: [{ type: "spiffe_id", value: parent }],
    });
  });

  it("refuses a token value already taken", async () => {
    await client.createJoinToken({ ttl: 60, token: "taken", agentId: undefined });
    const err = await rejection(client.createJoinToken({ ttl: 60, token: "taken", agentId: undefined }));
    expect(err.code).toBe(Code.INTERNAL);
    expect(err.message).toMatch(/^failed to create token: /);
  });
});
