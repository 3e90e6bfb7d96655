import { X509Certificate, createPublicKey, generateKeyPairSync } from "node:crypto";
import { createLogger } from "@signet/host-common";
import { type AsyncClient, Code, RpcError, createClient } from "@signet/proto";
import { type NewX509SVIDParams, SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeId, TrustDomain, createCsr } from "@signet/spiffe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type TestApiServer, startApiServer } from "../../../../../../test/fakes/api-server.js";
import { InMemoryAuthorizedEntries } from "../../../../../../test/fakes/authorized-entries.js";
import { ManualClock } from "../../../../../../test/fakes/clock.js";
import { type TestDataStore, startTestDataStore } from "../../../../../../test/fakes/datastore.js";
import { type TestCa, startTestCa } from "../../../../../../test/fakes/server-ca.js";
import type { ServerCA } from "../../../ca/authority.js";
import { type Caller, localCaller } from "../../rpccontext/caller.js";
import { svidHandlers } from "./service.js";

const td = TrustDomain.parse("example.org");
const agentId = "spiffe://example.org/spire/agent/test/a1";
const log = createLogger({ level: "error", write: () => {} });
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const entries = new InMemoryAuthorizedEntries("example.org");

let testCa: TestCa;
let store: TestDataStore;
let api: TestApiServer;
let client: AsyncClient<typeof SVIDService>;
/** Batch sizes of the CA calls made by the service. */
const caBatches: number[] = [];
let jwtSvidsDisabled = false;

const agent: Caller = { ...localCaller("ipv4:10.0.0.1:5000"), local: false, agentId: SpiffeId.parse(agentId) };

function key() {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

function otherSpki(): Buffer {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
}

function entry(id: string, path: string, extra: Partial<Entry> = {}): Entry {
  return {
    id,
    spiffeId: { trustDomain: "example.org", path },
    parentId: { trustDomain: "example.org", path: "/spire/agent/test/a1" },
    selectors: [{ type: "unix", value: "uid:1000" }],
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
    ...extra,
  };
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

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
}

beforeAll(async () => {
  testCa = await startTestCa({ trustDomain: td, clock });
  await testCa.rotator.initialize();
  store = await startTestDataStore();
  await store.dataStore.setBundle({ bundle: testCa.bundle.bundle });
  const ca: ServerCA = {
    signWorkloadX509Svids: (requests) => {
      caBatches.push(requests.length);
      return testCa.ca.signWorkloadX509Svids(requests);
    },
    signAgentX509Svid: (r) => testCa.ca.signAgentX509Svid(r),
    signDownstreamX509Ca: (r) => testCa.ca.signDownstreamX509Ca(r),
    signJwtSvid: (r) => testCa.ca.signJwtSvid(r),
  };
  entries.setEntries([
    entry("e1", "/w/1", { dnsNames: ["w1.example.org", "*.w1.example.org"], x509SvidTtl: 600 }),
    entry("e2", "/w/2"),
    entry("jti", "/w/jti", { jwtSvidTtl: 120, additionalAttributes: { disableX509SvidPrefetch: false, jwtSvidIncludeJti: true } }),
    entry("foreign", "/w/foreign", { parentId: { trustDomain: "example.org", path: "/spire/agent/test/other" } }),
    entry("bad-id", "/w/bad", { spiffeId: { trustDomain: "other.org", path: "/w/bad" } }),
  ]);
  const handlers = svidHandlers({
    trustDomain: td,
    ca,
    authorizedEntries: entries,
    dataStore: store.dataStore,
    log,
    get jwtSvidsDisabled() {
      return jwtSvidsDisabled;
    },
  });
  api = await startApiServer([{ definition: SVIDService, impl: handlers }], agent);
  client = createClient(SVIDService, api.channel);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
  await testCa?.close();
});

beforeEach(() => {
  api.caller = agent;
  caBatches.length = 0;
  jwtSvidsDisabled = false;
});

describe("BatchNewX509SVID", () => {
  it("signs the good items in one CA call and gives every bad item SPIRE's status, in order", async () => {
    const good = key();
    const signer = key();
    const misSigned = createCsr({ privateKey: signer, spki: otherSpki() });
    const params: NewX509SVIDParams[] = [
      { entryId: "e1", csr: createCsr({ privateKey: good }) },
      { entryId: "", csr: createCsr({ privateKey: key() }) },
      { entryId: "e2", csr: Buffer.alloc(0) },
      { entryId: "foreign", csr: createCsr({ privateKey: key() }) },
      { entryId: "no-such-entry", csr: createCsr({ privateKey: key() }) },
      { entryId: "e2", csr: Buffer.from("-----BEGIN CERTIFICATE REQUEST-----") },
      { entryId: "e2", csr: Buffer.from([0x30, 0x82, 0xff, 0xff, 0x00]) },
      { entryId: "e2", csr: misSigned },
      { entryId: "bad-id", csr: createCsr({ privateKey: key() }) },
      // SANs in the CSR are ignored: ID and DNS names come from the entry.
      { entryId: "e2", csr: createCsr({ privateKey: key(), uriSans: ["spiffe://example.org/admin"], dnsNames: ["evil.example.org"] }) },
    ];
    const { results } = await client.batchNewX509Svid({ params });
    expect(results.map((r) => [r.status?.code, r.status?.message.replace(/: .*/s, ": …")])).toEqual([
      [Code.OK, "OK"],
      [Code.INVALID_ARGUMENT, "missing entry ID"],
      [Code.INVALID_ARGUMENT, "missing CSR"],
      [Code.NOT_FOUND, "entry not found or not authorized"],
      [Code.NOT_FOUND, "entry not found or not authorized"],
      [Code.INVALID_ARGUMENT, "malformed CSR: …"],
      [Code.INVALID_ARGUMENT, "malformed CSR: …"],
      [Code.INVALID_ARGUMENT, "invalid CSR signature: …"],
      [Code.INTERNAL, "entry has malformed SPIFFE ID: …"],
      [Code.OK, "OK"],
    ]);
    expect(results[7]!.status!.message).toBe("invalid CSR signature: x509: ECDSA verification failure");
    expect(results[8]!.status!.message).toBe('entry has malformed SPIFFE ID: "spiffe://other.org/w/bad" is not a member of trust domain "example.org"');
    expect(caBatches).toEqual([2]);

    const svid = results[0]!.svid!;
    expect(svid.id).toEqual({ trustDomain: "example.org", path: "/w/1" });
    const leaf = new X509Certificate(svid.certChain[0]!);
    expect(leaf.subjectAltName).toBe("DNS:w1.example.org, DNS:*.w1.example.org, URI:spiffe://example.org/w/1");
    expect(leaf.publicKey.export({ type: "spki", format: "der" })).toEqual(createPublicKey(good).export({ type: "spki", format: "der" }));
    expect(svid.expiresAt).toBe(BigInt(clock.now().getTime() / 1000 + 600));
    expect(Math.floor(new Date(leaf.validTo).getTime() / 1000)).toBe(Number(svid.expiresAt));
    const other = new X509Certificate(results[9]!.svid!.certChain[0]!);
    expect(other.subjectAltName).toBe("URI:spiffe://example.org/w/2");
    const roots = testCa.bundle.bundle!.x509Authorities.map((a) => new X509Certificate(a.asn1));
    expect(roots.some((r) => leaf.verify(r.publicKey))).toBe(true);
  });

  it("signs a batch of 500 with one CA call", async () => {
    const params = Array.from({ length: 500 }, (_, i) => ({ entryId: i % 2 ? "e1" : "e2", csr: createCsr({ privateKey: key() }) }));
    const { results } = await client.batchNewX509Svid({ params });
    expect(results.every((r) => r.status?.code === Code.OK && r.svid?.certChain.length === 1)).toBe(true);
    expect(caBatches).toEqual([500]);
  });

  // The signing rate limit is the endpoint layer's (endpoints.test.ts checks a 501-CSR batch).
  it("fails the whole call for empty params or a caller that is not an agent", async () => {
    const empty = await rejection(client.batchNewX509Svid({ params: [] }));
    expect([empty.code, empty.message]).toEqual([Code.INVALID_ARGUMENT, "missing parameters"]);

    api.caller = localCaller();
    const notAgent = await rejection(client.batchNewX509Svid({ params: [{ entryId: "e1", csr: createCsr({ privateKey: key() }) }] }));
    expect([notAgent.code, notAgent.message]).toEqual([Code.INTERNAL, "caller ID missing from request context"]);
    expect(caBatches).toEqual([]);
  });
});

describe("MintX509SVID", () => {
  it("mints from the CSR: its ID, DNS names and subject, with the requested TTL", async () => {
    api.caller = localCaller();
    const csr = createCsr({
      privateKey: key(),
      uriSans: ["spiffe://example.org/minted"],
      dnsNames: ["minted.example.org"],
      subject: { country: ["DE"], organization: ["Acme"], commonName: "minted" },
    });
    const { svid } = await client.mintX509Svid({ csr, ttl: 120 });
    expect(svid?.id).toEqual({ trustDomain: "example.org", path: "/minted" });
    const leaf = new X509Certificate(svid!.certChain[0]!);
    expect(leaf.subject).toContain("O=Acme");
    expect(leaf.subjectAltName).toBe("DNS:minted.example.org, URI:spiffe://example.org/minted");
    expect(svid!.expiresAt).toBe(BigInt(clock.now().getTime() / 1000 + 120));
    const byDefault = await client.mintX509Svid({ csr, ttl: 0 });
    expect(byDefault.svid!.expiresAt).toBe(BigInt(clock.now().getTime() / 1000 + 3600));
  });

  it("refuses bad CSRs with SPIRE's wording", async () => {
    api.caller = localCaller();
    const k = key();
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(0), "missing CSR"],
      [Buffer.from("garbage"), "malformed CSR: "],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org/x"], spki: otherSpki() }), "failed to verify CSR signature: x509: ECDSA verification failure"],
      [createCsr({ privateKey: k }), "CSR URI SAN is required"],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org/a", "spiffe://example.org/b"] }), "only one URI SAN is expected"],
      [createCsr({ privateKey: k, uriSans: ["https://example.org/a"] }), "CSR URI SAN is invalid: scheme is missing or invalid"],
      [createCsr({ privateKey: k, uriSans: ["spiffe://other.org/a"] }), 'CSR URI SAN is invalid: "spiffe://other.org/a" is not a member of trust domain "example.org"'],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org/spire/agent/x"] }), 'CSR URI SAN is invalid: "spiffe://example.org/spire/agent/x" is not a workload in trust domain "example.org"; path is in the reserved namespace'],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org"] }), 'CSR URI SAN is invalid: "spiffe://example.org" is not a workload in trust domain "example.org"; path is empty'],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org/a"], dnsNames: ["-bad.example.org"] }), 'CSR DNS name is invalid: idna error\nidna: invalid label "-bad"'],
      [createCsr({ privateKey: k, uriSans: ["spiffe://example.org/a"], dnsNames: ["a.*.example.org"] }), "CSR DNS name is invalid: wildcard must be first label"],
      [
        createCsr({ privateKey: k, uriSans: ["spiffe://example.org/a"], dnsNames: ["*.example.org", "www.example.org"] }),
        'CSR DNS name contains a wildcard that covers another non-wildcard name: name "www.example.org" overlaps with an existing wildcard name in the list: wildcard overlap',
      ],
    ];
    for (const [csr, message] of cases) {
      const err = await rejection(client.mintX509Svid({ csr, ttl: 0 }));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      if (message.endsWith(": ")) expect(err.message.startsWith(message)).toBe(true);
      else expect(err.message).toBe(message);
    }
    expect(caBatches).toEqual([]);
  });
});

describe("JWT-SVIDs", () => {
  it("mints for an ID and audience, and refuses what SPIRE refuses", async () => {
    api.caller = localCaller();
    const { svid } = await client.mintJwtsvid({ id: { trustDomain: "example.org", path: "/jwt" }, audience: ["a", "b"], ttl: 60 });
    expect(claims(svid!.token)).toMatchObject({ sub: "spiffe://example.org/jwt", aud: ["a", "b"] });
    expect(svid!.expiresAt - svid!.issuedAt).toBe(60n);
    const noAudience = await rejection(client.mintJwtsvid({ id: { trustDomain: "example.org", path: "/jwt" }, audience: [], ttl: 0 }));
    expect([noAudience.code, noAudience.message]).toEqual([Code.INVALID_ARGUMENT, "at least one audience is required"]);
    const reserved = await rejection(client.mintJwtsvid({ id: { trustDomain: "example.org", path: "/spire/server" }, audience: ["a"], ttl: 0 }));
    expect([reserved.code, reserved.message]).toEqual([
      Code.INVALID_ARGUMENT,
      'invalid SPIFFE ID: "spiffe://example.org/spire/server" is not a workload in trust domain "example.org"; path is in the reserved namespace',
    ]);
    jwtSvidsDisabled = true;
    const disabled = await rejection(client.mintJwtsvid({ id: { trustDomain: "example.org", path: "/jwt" }, audience: ["a"], ttl: 0 }));
    expect([disabled.code, disabled.message]).toEqual([Code.UNIMPLEMENTED, "JWT functionality is disabled"]);
  });

  it("signs for an authorized entry with its TTL, adding jti when the entry asks", async () => {
    const plain = await client.newJwtsvid({ entryId: "e2", audience: ["aud"] });
    expect(claims(plain.svid!.token).jti).toBeUndefined();
    expect(plain.svid!.id).toEqual({ trustDomain: "example.org", path: "/w/2" });
    const withJti = await client.newJwtsvid({ entryId: "jti", audience: ["aud"] });
    expect(typeof claims(withJti.svid!.token).jti).toBe("string");
    expect(withJti.svid!.expiresAt - withJti.svid!.issuedAt).toBe(120n);

    for (const entryId of ["foreign", "nope", ""]) {
      const err = await rejection(client.newJwtsvid({ entryId, audience: ["aud"] }));
      expect([err.code, err.message]).toEqual([Code.NOT_FOUND, "entry not found or not authorized"]);
    }
    const noAudience = await rejection(client.newJwtsvid({ entryId: "e2", audience: [] }));
    expect([noAudience.code, noAudience.message]).toEqual([Code.INVALID_ARGUMENT, "at least one audience is required"]);
    jwtSvidsDisabled = true;
    const disabled = await rejection(client.newJwtsvid({ entryId: "e2", audience: ["aud"] }));
    expect([disabled.code, disabled.message]).toEqual([Code.UNIMPLEMENTED, "JWT functionality is disabled"]);
  });
});

describe("NewDownstreamX509CA and WIT-SVIDs", () => {
  it("signs a CA for a downstream caller and returns the bundle roots", async () => {
    api.caller = { ...agent, agentId: undefined, downstream: true };
    const { caCertChain, x509Authorities } = await client.newDownstreamX509Ca({ csr: createCsr({ privateKey: key() }), preferredTtl: 600 });
    expect(new X509Certificate(caCertChain[0]!).ca).toBe(true);
    expect(x509Authorities).toEqual(testCa.bundle.bundle!.x509Authorities.map((a) => a.asn1));
    const bad = await rejection(client.newDownstreamX509Ca({ csr: Buffer.from("nope"), preferredTtl: 0 }));
    expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.message).toMatch(/^malformed CSR: /);
    api.caller = agent;
    const notDownstream = await rejection(client.newDownstreamX509Ca({ csr: createCsr({ privateKey: key() }), preferredTtl: 0 }));
    expect([notDownstream.code, notDownstream.message]).toEqual([Code.INTERNAL, "caller is not a downstream workload"]);
  });

  it("answers Unimplemented for WIT-SVIDs", async () => {
    const mint = await rejection(client.mintWitsvid({ id: undefined, publicKey: Buffer.alloc(0), ttl: 0, signingAlgorithm: "" }));
    const batch = await rejection(client.batchNewWitsvid({ params: [] }));
    for (const err of [mint, batch]) expect([err.code, err.message]).toEqual([Code.UNIMPLEMENTED, "WIT functionality is disabled"]);
  });
});
