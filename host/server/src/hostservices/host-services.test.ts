/**
 * The server's host services over a real gRPC connection, backed by the real
 * SQL DataStore: before the server binds them they refuse with
 * FailedPrecondition; after, AgentStore answers from the attested nodes and
 * IdentityProvider hands out the server SVID and the stored bundle.
 */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient } from "@signet/proto";
import { AgentStoreService } from "@signet/proto/spire/hostservice/server/agentstore/v1/agentstore";
import { IdentityProviderService } from "@signet/proto/spire/hostservice/server/identityprovider/v1/identityprovider";
import { MetricsService } from "@signet/proto/spire/hostservice/common/metrics/v1/metrics";
import { createLogger } from "@signet/host-common";
import { newKey, selfSignedCa } from "../../../../test/fakes/ca-files.js";
import { type TestDataStore, startTestDataStore } from "../../../../test/fakes/datastore.js";
import type { ServerSvid, ServerSvidSource } from "../svid/rotator.js";
import { ServerHostServices } from "./host-services.js";

const trustDomain = "example.org";
const dir = mkdtempSync(join(tmpdir(), "host-services-"));
const lines: string[] = [];
const log = createLogger({ write: (line: string) => void lines.push(line) });
const services = new ServerHostServices(trustDomain, log);
let ds: TestDataStore;
let server: Server;
let address: string;

beforeAll(async () => {
  ds = await startTestDataStore();
  server = new Server();
  for (const s of services.forPlugin({ type: "NodeAttestor", name: "aws_iid" })) server.addService(s.definition as never, s.implementation);
  address = `unix://${join(dir, "host.sock")}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(address, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
});
afterAll(async () => {
  channel?.close();
  server.forceShutdown();
  await ds.close();
  rmSync(dir, { recursive: true, force: true });
});

let channel: Channel;
const client = <S extends Parameters<typeof createClient>[0]>(def: S) => createClient(def, (channel ??= new Channel(address, credentials.createInsecure(), {})));
const deadline = () => ({ deadline: Date.now() + 10_000 });

const caKey = newKey();
const caDer = selfSignedCa(caKey, { trustDomain });
const svidKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const svid: ServerSvid = { certChain: [caDer], privateKey: svidKey, notBefore: new Date(), notAfter: new Date(Date.now() + 3600_000) } as ServerSvid;
const svidSource: ServerSvidSource = { current: () => svid, subscribe: () => () => {} };

describe("server host services", () => {
  it("answer FailedPrecondition until the server binds them, as SPIRE's do", async () => {
    await expect(client(AgentStoreService).getAgentInfo({ agentId: "spiffe://example.org/spire/agent/x" }, deadline())).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: "AgentStore host service has not been initialized",
    });
    await expect(client(IdentityProviderService).fetchX509Identity({}, deadline())).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: "IdentityProvider host service has not been initialized",
    });
  });

  it("AgentStore: NotFound for an unknown agent, the agent ID for an attested (even banned) one", async () => {
    services.bind({ dataStore: ds.dataStore, serverSvid: svidSource });
    const agents = client(AgentStoreService);
    const id = "spiffe://example.org/spire/agent/aws_iid/123456789012/us-east-1/i-0abc";
    await expect(agents.getAgentInfo({ agentId: id }, deadline())).rejects.toMatchObject({ code: Code.NOT_FOUND, message: "no such agent" });
    await expect(agents.getAgentInfo({ agentId: "" }, deadline())).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await ds.dataStore.createAttestedNode({
      // Empty serials: a banned agent, which is still an attested one.
      node: { spiffeId: id, attestationDataType: "aws_iid", certSerialNumber: "", certNotAfter: 0n, newCertSerialNumber: "", newCertNotAfter: 0n, selectors: [], canReattest: false, agentVersion: "" },
    });
    expect(await agents.getAgentInfo({ agentId: id }, deadline())).toEqual({ info: { agentId: id } });
  });

  it("IdentityProvider: the server SVID with its PKCS#8 key and the stored bundle", async () => {
    const ip = client(IdentityProviderService);
    await expect(ip.fetchX509Identity({}, deadline())).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await ds.dataStore.createBundle({
      bundle: { trustDomain, x509Authorities: [{ asn1: caDer, tainted: false }], jwtAuthorities: [], refreshHint: 300n, sequenceNumber: 4n, witAuthorities: [] },
    } as never);
    const res = await ip.fetchX509Identity({}, deadline());
    expect(res.identity?.certChain.map((c) => new X509Certificate(c).fingerprint256)).toEqual([new X509Certificate(caDer).fingerprint256]);
    const key = createPrivateKey({ key: Buffer.from(res.identity!.privateKey), format: "der", type: "pkcs8" });
    expect(key.export({ format: "jwk" })).toEqual(svidKey.export({ format: "jwk" }));
    expect(res.bundle).toMatchObject({ trustDomain, refreshHint: 300n, sequenceNumber: 0n });
    expect(res.bundle?.x509Authorities.map((a) => Buffer.from(a.asn1).equals(caDer))).toEqual([true]);
  });

  it("Metrics: accepted and dropped, said once in the log", async () => {
    const m = client(MetricsService);
    await m.incrCounter({ key: ["aws_iid", "attest"], val: 1, labels: [] }, deadline());
    await m.setGauge({ key: ["x"], val: 2, labels: [{ name: "a", value: "b" }] }, deadline());
    const said = lines.filter((l) => l.includes("no metrics sink"));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ plugin_type: "NodeAttestor", plugin_name: "aws_iid", first_key: "aws_iid.attest" });
  });
});
