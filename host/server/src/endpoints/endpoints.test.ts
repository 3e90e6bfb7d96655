/**
 * The endpoints over real sockets and real TLS: a grpc-js client with and
 * without a client certificate on TCP, the local socket, the agent serial
 * check against a real (SQLite) DataStore, admin and downstream classes,
 * rotation of the server SVID, rate limits and health.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { Channel, credentials } from "@grpc/grpc-js";
import { type AsyncClient, Code, createClient, implement, RpcError } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { DebugService } from "@signet/proto/spire/api/server/debug/v1/debug";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import { PermissionDeniedDetails_Reason as Reason } from "@signet/proto/spire/api/types/status";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemoryAuthorizedEntries } from "../../../../test/fakes/authorized-entries.js";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import { createIntermediateCa, createRootCa, keyPem, mintSvid, pem, type TestCa, type TestSvid } from "../../../../test/e2e/spiffe-test-pki.js";
import { type Caller, callerOf } from "../api/rpccontext/caller.js";
import { Endpoints } from "./endpoints.js";
import { permissionDeniedReason } from "@signet/host-common";
import type { ServerSvidState } from "./svid-source.js";

const td = "example.org";
const adminId = "spiffe://example.org/admin-by-config";
const now = new Date();
const past = new Date(now.getTime() - 6 * 3600_000);

let ca: TestCa;
let foreignCa: TestCa;
let ds: TestDataStore;
let endpoints: Endpoints;
let dir: string;
let socketPath: string;
let serverSvid: ServerSvidState;
const entries = new InMemoryAuthorizedEntries(td);
const seen: Array<{ method: string; caller: Caller }> = [];

function summary(c: Caller): string {
  return JSON.stringify({ local: c.local, id: c.x509Svid?.id.toString(), agent: c.agentId?.toString(), admin: c.admin, downstream: c.downstream });
}

beforeAll(async () => {
  ca = createRootCa(td, { now: new Date(now.getTime() - 24 * 3600_000), ttlSeconds: 3 * 86_400 });
  foreignCa = createRootCa("other.org");
  const svid = mintSvid(ca, "spiffe://example.org/spire/server");
  serverSvid = { certChain: svid.chain, privateKey: svid.key };
  ds = await startTestDataStore();
  await ds.dataStore.createBundle({ bundle: { trustDomain: td, x509Authorities: [{ asn1: ca.der, tainted: false }], jwtAuthorities: [], witAuthorities: [], refreshHint: 0n, sequenceNumber: 1n } });
  dir = mkdtempSync(join(tmpdir(), "signet-endpoints-"));
  socketPath = join(dir, "private", "api.sock");
  endpoints = new Endpoints({
    trustDomain: ca.trustDomain,
    bindAddress: "127.0.0.1",
    bindPort: 0,
    socketPath,
    adminIds: [adminId],
    rateLimit: { attestation: true, signing: true },
    svid: { current: () => serverSvid },
    dataStore: ds.dataStore,
    authorizedEntries: entries,
    gracefulStopTimeoutMs: 2000,
  });
  const record = (method: string, ctx: Parameters<typeof callerOf>[0]) => {
    const caller = callerOf(ctx);
    seen.push({ method, caller });
    return caller;
  };
  const both = { tcp: true, uds: true };
  endpoints.register(
    implement(BundleService, {
      async getBundle(_req, ctx) {
        return { trustDomain: summary(record("GetBundle", ctx)), x509Authorities: [], jwtAuthorities: [], witAuthorities: [], refreshHint: 0n, sequenceNumber: 0n };
      },
      async countBundles(_req, ctx) {
        record("CountBundles", ctx);
        return { count: 1 };
      },
    }),
    both,
  );
  endpoints.register(
    implement(AgentService, {
      async postStatus(_req, ctx) {
        record("PostStatus", ctx);
        return {};
      },
      async *attestAgent(requests, ctx) {
        record("AttestAgent", ctx);
        for await (const _ of requests) break;
        yield { step: { $case: "challenge", value: Buffer.from("nonce") } };
      },
    }),
    both,
  );
  endpoints.register(
    implement(SVIDService, {
      async batchNewX509Svid(req, ctx) {
        record("BatchNewX509SVID", ctx);
        return { results: req.params.map(() => ({ status: { code: 0, message: "OK" }, svid: undefined })) };
      },
      async newDownstreamX509Ca(_req, ctx) {
        record("NewDownstreamX509CA", ctx);
        return { caCertChain: [], x509Authorities: [] };
      },
    }),
    both,
  );
  endpoints.register(
    implement(EntryService, {
      async listEntries(_req, ctx) {
        record("ListEntries", ctx);
        return { entries: [], nextPageToken: "" };
      },
    }),
    both,
  );
  endpoints.register(
    implement(DebugService, {
      async getInfo(_req, ctx) {
        record("GetInfo", ctx);
        return { svidChain: [], uptime: 1, agentsCount: 0, entriesCount: 0, federatedBundlesCount: 0 } as never;
      },
    }),
    { tcp: false, uds: true },
  );
  await endpoints.start();
});

afterAll(async () => {
  await endpoints?.stop();
  await ds?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const channels: Channel[] = [];
afterAll(() => {
  for (const c of channels) c.close();
});

function tcpChannel(svid?: TestSvid): Channel {
  const creds = credentials.createSsl(
    Buffer.from(pem([ca.der])),
    svid ? Buffer.from(keyPem(svid.key)) : null,
    svid ? Buffer.from(pem(svid.chain)) : null,
    { checkServerIdentity: () => undefined },
  );
  const ch = new Channel(`127.0.0.1:${endpoints.tcpPort}`, creds, { "grpc.ssl_target_name_override": "example.org", "grpc.use_local_subchannel_pool": 1 });
  channels.push(ch);
  return ch;
}

function udsChannel(): Channel {
  const ch = new Channel(`unix:${socketPath}`, credentials.createInsecure(), {});
  channels.push(ch);
  return ch;
}

async function failure(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error("call unexpectedly succeeded");
}

async function attestedAgent(name: string, node: { current?: string; next?: string; banned?: boolean } = {}, opts: Parameters<typeof mintSvid>[2] = {}, issuer: TestCa = ca): Promise<TestSvid> {
  const svid = mintSvid(issuer, `spiffe://example.org/spire/agent/test/${name}`, opts);
  const serial = svid.serial.toString(10);
  await ds.dataStore.createAttestedNode({
    node: {
      spiffeId: svid.id.toString(),
      attestationDataType: "test",
      certSerialNumber: node.banned ? "" : (node.current ?? serial),
      certNotAfter: BigInt(Math.floor(svid.notAfter.getTime() / 1000)),
      newCertSerialNumber: node.banned ? "" : (node.next ?? ""),
      newCertNotAfter: 0n,
      selectors: [],
      canReattest: false,
      agentVersion: "",
    },
  });
  return svid;
}

describe("TCP endpoint", () => {
  it("lets a client without a certificate call an 'any' method", async () => {
    const bundle = createClient(BundleService, tcpChannel());
    const res = await bundle.getBundle({ outputMask: undefined });
    expect(JSON.parse(res.trustDomain)).toEqual({ local: false, admin: false, downstream: false });
  });

  it("refuses agent methods to a client without a certificate, without details", async () => {
    const err = await failure(createClient(AgentService, tcpChannel()).postStatus({ currentBundleSerial: 0n, agentVersion: "" }));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toBe("authorization denied for method /spire.api.server.agent.v1.Agent/PostStatus");
    expect(permissionDeniedReason(err.metadata)).toBeUndefined();
  });

  it("recognises an agent whose serial is the current one", async () => {
    const svid = await attestedAgent("current");
    await createClient(AgentService, tcpChannel(svid)).postStatus({ currentBundleSerial: 0n, agentVersion: "" });
    const last = seen.at(-1)!;
    expect(last.method).toBe("PostStatus");
    expect(last.caller.agentId?.toString()).toBe(svid.id.toString());
    expect(last.caller.x509Svid?.serial).toBe(svid.serial.toString(10));
  });

  it("recognises an agent presenting its renewed SVID and promotes the new serial", async () => {
    const svid = mintSvid(ca, "spiffe://example.org/spire/agent/test/renewed");
    await ds.dataStore.createAttestedNode({
      node: { spiffeId: svid.id.toString(), attestationDataType: "test", certSerialNumber: "12345", certNotAfter: 1n, newCertSerialNumber: svid.serial.toString(10), newCertNotAfter: 99n, selectors: [], canReattest: false, agentVersion: "" },
    });
    await createClient(AgentService, tcpChannel(svid)).postStatus({ currentBundleSerial: 0n, agentVersion: "" });
    const { node } = await ds.dataStore.fetchAttestedNode({ spiffeId: svid.id.toString() });
    expect(node?.certSerialNumber).toBe(svid.serial.toString(10));
    expect(node?.certNotAfter).toBe(99n);
    expect(node?.newCertSerialNumber).toBe("");
  });

  it("accepts an agent SVID chained through intermediates the client sends", async () => {
    const intermediate = createIntermediateCa(ca);
    const svid = await attestedAgent("via-intermediate", {}, {}, intermediate);
    expect(svid.chain.length).toBe(2);
    await createClient(AgentService, tcpChannel(svid)).postStatus({ currentBundleSerial: 0n, agentVersion: "" });
    expect(seen.at(-1)!.caller.agentId?.toString()).toBe(svid.id.toString());
  });

  const denials: Array<[string, () => Promise<TestSvid>, Reason]> = [
    ["expired", () => attestedAgent("expired", {}, { now: past, ttlSeconds: 60 }), Reason.AGENT_EXPIRED],
    ["not attested", async () => mintSvid(ca, "spiffe://example.org/spire/agent/test/unknown"), Reason.AGENT_NOT_ATTESTED],
    ["banned", () => attestedAgent("banned", { banned: true }), Reason.AGENT_BANNED],
    ["not active", () => attestedAgent("stale", { current: "777", next: "888" }), Reason.AGENT_NOT_ACTIVE],
  ];
  for (const [what, make, reason] of denials) {
    it(`refuses an ${what} agent with PermissionDenied and the ${Reason[reason]} detail`, async () => {
      const svid = await make();
      const err = await failure(createClient(AgentService, tcpChannel(svid)).postStatus({ currentBundleSerial: 0n, agentVersion: "" }));
      expect(err.code).toBe(Code.PERMISSION_DENIED);
      expect(err.message).toBe("authorization denied for method /spire.api.server.agent.v1.Agent/PostStatus");
      expect(permissionDeniedReason(err.metadata)).toBe(reason);
    });
  }

  it("treats IDs in admin_ids as admins, and entries with admin=true too", async () => {
    const admin = mintSvid(ca, adminId);
    await createClient(BundleService, tcpChannel(admin)).countBundles({});
    expect(seen.at(-1)!.caller.admin).toBe(true);

    const byEntry = mintSvid(ca, "spiffe://example.org/admin-by-entry");
    entries.setEntries([{ id: "e1", spiffeId: { trustDomain: td, path: "/admin-by-entry" }, parentId: { trustDomain: td, path: "/x" }, admin: true } as unknown as Entry]);
    await createClient(BundleService, tcpChannel(byEntry)).countBundles({});
    expect(seen.at(-1)!.caller.admin).toBe(true);

    const nobody = mintSvid(ca, "spiffe://example.org/workload");
    const err = await failure(createClient(BundleService, tcpChannel(nobody)).countBundles({}));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toBe("authorization denied for method /spire.api.server.bundle.v1.Bundle/CountBundles");
  });

  it("lets downstream entries call NewDownstreamX509CA", async () => {
    const svid = mintSvid(ca, "spiffe://example.org/downstream");
    entries.setEntries([{ id: "d1", spiffeId: { trustDomain: td, path: "/downstream" }, parentId: { trustDomain: td, path: "/x" }, downstream: true } as unknown as Entry]);
    await createClient(SVIDService, tcpChannel(svid)).newDownstreamX509Ca({ csr: Buffer.alloc(0), preferredTtl: 0 });
    expect(seen.at(-1)!.caller.downstream).toBe(true);
    const err = await failure(createClient(SVIDService, tcpChannel()).newDownstreamX509Ca({ csr: Buffer.alloc(0), preferredTtl: 0 }));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
  });

  it("refuses local-only methods over TCP, even to admins", async () => {
    const admin = mintSvid(ca, adminId);
    const err = await failure(createClient(HealthService, tcpChannel(admin)).check({ service: "" }));
    expect(err.code).toBe(Code.UNIMPLEMENTED); // Health is not served on TCP at all
    const err2 = await failure(createClient(DebugService, tcpChannel(admin)).getInfo({}));
    expect(err2.code).toBe(Code.UNIMPLEMENTED);
  });

  it("fails calls from a certificate of a foreign trust domain with Unauthenticated", async () => {
    const foreign = mintSvid(foreignCa, "spiffe://other.org/spire/agent/x");
    const err = await failure(createClient(BundleService, tcpChannel(foreign)).getBundle({ outputMask: undefined }));
    expect(err.code).toBe(Code.UNAUTHENTICATED);
    expect(err.message).toContain('no bundle found for trust domain "other.org"');
  });

  it("fails calls from a certificate not signed by the bundle with Unauthenticated", async () => {
    const rogueCa = createRootCa(td);
    const rogue = mintSvid(rogueCa, "spiffe://example.org/spire/agent/test/current");
    const err = await failure(createClient(BundleService, tcpChannel(rogue)).getBundle({ outputMask: undefined }));
    expect(err.code).toBe(Code.UNAUTHENTICATED);
    expect(err.message).toContain("certificate signed by unknown authority");
  });

  it("serves a rotated server SVID on the next handshake, and never resumes sessions", async () => {
    const handshake = (session?: Buffer) =>
      new Promise<{ serial: string; session?: Buffer; reused: boolean }>((resolve, reject) => {
        let got: Buffer | undefined;
        const s = tls.connect({ host: "127.0.0.1", port: endpoints.tcpPort, ca: pem([ca.der]), checkServerIdentity: () => undefined, ALPNProtocols: ["h2"], session });
        s.on("session", (sess) => (got = sess));
        s.once("error", reject);
        s.once("secureConnect", () => {
          const serial = s.getPeerX509Certificate()!.serialNumber;
          const reused = s.isSessionReused();
          setTimeout(() => {
            s.destroy();
            resolve({ serial, session: got, reused });
          }, 50);
        });
      });
    const first = await handshake();
    expect(first.serial).toBe(new X509Certificate(serverSvid.certChain[0]!).serialNumber);
    const rotated = mintSvid(ca, "spiffe://example.org/spire/server");
    const previous = serverSvid;
    serverSvid = { certChain: rotated.chain, privateKey: rotated.key };
    try {
      const second = await handshake(first.session);
      expect(second.serial).toBe(new X509Certificate(rotated.chain[0]!).serialNumber);
      expect(second.reused).toBe(false);
      // And gRPC works with the rotated certificate.
      await createClient(BundleService, tcpChannel()).getBundle({ outputMask: undefined });
    } finally {
      serverSvid = previous;
    }
  });

  it("fails a batch bigger than the signing burst with ResourceExhausted", async () => {
    const svid = await attestedAgent("batcher");
    const client = createClient(SVIDService, tcpChannel(svid));
    const params = (n: number) => Array.from({ length: n }, () => ({ entryId: "x", csr: Buffer.alloc(0) }));
    const ok = await client.batchNewX509Svid({ params: params(3) });
    expect(ok.results.length).toBe(3);
    const err = await failure(client.batchNewX509Svid({ params: params(501) }));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.message).toBe("rejecting request due to certificate signing rate limiting: rate (501) exceeds burst size (500)");
  });

  it("wraps streaming handlers too (AttestAgent is open to anyone)", async () => {
    const agent = createClient(AgentService, tcpChannel());
    const call = agent.attestAgent();
    call.send({ step: { $case: "challengeResponse", value: Buffer.from("x") } });
    call.end();
    const out = [];
    for await (const m of call) out.push(m);
    expect(out[0]?.step?.$case).toBe("challenge");
    expect(seen.at(-1)!.method).toBe("AttestAgent");
  });
});

describe("local endpoint", () => {
  it("creates the socket 0770 in a directory, and every caller is local", async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o770);
    const res = await createClient(BundleService, udsChannel()).getBundle({ outputMask: undefined });
    expect(JSON.parse(res.trustDomain)).toMatchObject({ local: true });
    await createClient(BundleService, udsChannel()).countBundles({});
    await createClient(DebugService, udsChannel()).getInfo({});
    expect(seen.at(-1)!.caller.local).toBe(true);
    await createClient(EntryService, udsChannel()).listEntries({ filter: undefined, outputMask: undefined, pageSize: 0, pageToken: "" });
    expect(seen.at(-1)!.method).toBe("ListEntries");
  });

  it("refuses agent methods over the local socket", async () => {
    const err = await failure(createClient(AgentService, udsChannel()).postStatus({ currentBundleSerial: 0n, agentVersion: "" }));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toBe("authorization denied for method /spire.api.server.agent.v1.Agent/PostStatus");
    const err2 = await failure(createClient(SVIDService, udsChannel()).batchNewX509Svid({ params: [] }));
    expect(err2.code).toBe(Code.PERMISSION_DENIED);
  });

  it("answers health: SERVING with the bundle, InvalidArgument per service, List Unimplemented", async () => {
    const health = createClient(HealthService, udsChannel());
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const bad = await failure(health.check({ service: "spire.api.server.agent.v1.Agent" }));
    expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.message).toBe("per-service health is not supported");
    const list = await failure(health.list({}));
    expect(list.code).toBe(Code.UNIMPLEMENTED);
  });

  it("refuses to start over a live server's socket, and replaces a stale one", async () => {
    const other = new Endpoints({
      trustDomain: ca.trustDomain,
      bindAddress: "127.0.0.1",
      bindPort: 0,
      socketPath,
      adminIds: [],
      rateLimit: { attestation: false, signing: false },
      svid: { current: () => serverSvid },
      dataStore: ds.dataStore,
      authorizedEntries: entries,
    });
    await expect(other.start()).rejects.toThrow(/another server is already listening/);
    await other.stop();

    const stalePath = join(dir, "stale", "api.sock");
    const holder = createServer();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "stale"));
    await new Promise<void>((r) => holder.listen(stalePath, r));
    // Leave the file behind as a crashed server would.
    (holder as unknown as { _handle: { close(): void } })._handle.close();
    const fresh = new Endpoints({
      trustDomain: ca.trustDomain,
      bindAddress: "127.0.0.1",
      bindPort: 0,
      socketPath: stalePath,
      adminIds: [],
      rateLimit: { attestation: false, signing: false },
      svid: { current: () => serverSvid },
      dataStore: ds.dataStore,
      authorizedEntries: entries,
    });
    await fresh.start();
    const ch = new Channel(`unix:${stalePath}`, credentials.createInsecure(), {});
    channels.push(ch);
    expect((await createClient(HealthService, ch).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await fresh.stop();
  });
});

export type { AsyncClient };
