import { generateKeyPairSync } from "node:crypto";
import { type AsyncClient, Code, RpcError, createClient } from "@signet/proto";
import { DebugService } from "@signet/proto/spire/api/server/debug/v1/debug";
import { TrustDomain, spkiOf } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApiServer, startApiServer } from "../../../../../../test/fakes/api-server.js";
import { ManualClock } from "../../../../../../test/fakes/clock.js";
import { type TestDataStore, startTestDataStore } from "../../../../../../test/fakes/datastore.js";
import { type TestCa, startTestCa } from "../../../../../../test/fakes/server-ca.js";
import { localCaller } from "../../rpccontext/caller.js";
import { goNameString } from "./go-name.js";
import { debugHandlers } from "./service.js";

const td = TrustDomain.parse("example.org");
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
let testCa: TestCa;
let store: TestDataStore;
let api: TestApiServer;
let client: AsyncClient<typeof DebugService>;
let serverSvid: Buffer[] = [];

beforeAll(async () => {
  testCa = await startTestCa({ trustDomain: td, clock });
  await testCa.rotator.initialize();
  store = await startTestDataStore();
  const issued = await testCa.ca.signServerX509Svid(spkiOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey));
  serverSvid = [...issued.certChain];
  const handlers = debugHandlers({
    trustDomain: td,
    dataStore: store.dataStore,
    serverSvid: () => serverSvid,
    uptime: () => 42.7,
    now: () => clock.now(),
  });
  api = await startApiServer([{ definition: DebugService, impl: handlers }], localCaller());
  client = createClient(DebugService, api.channel);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
  await testCa?.close();
});

describe("Debug GetInfo", () => {
  it("answers NotFound until the trust domain has a bundle", async () => {
    const err = (await client.getInfo({}).catch((e: unknown) => e)) as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect([err.code, err.message]).toEqual([Code.NOT_FOUND, "trust domain bundle not found"]);
  });

  it("reports the verified server SVID chain and the counts, cached for 5 seconds", async () => {
    await store.dataStore.setBundle({ bundle: testCa.bundle.bundle });
    const info = await client.getInfo({});
    expect(info.uptime).toBe(42);
    expect(info).toMatchObject({ agentsCount: 0, entriesCount: 0, federatedBundlesCount: 1 });
    expect(info.svidChain).toHaveLength(2);
    expect(info.svidChain[0]).toMatchObject({ id: { trustDomain: "example.org", path: "/spire/server" }, subject: "O=SPIRE,C=US" });
    expect(info.svidChain[1]!.id).toEqual({ trustDomain: "example.org", path: "" });
    expect(info.svidChain[1]!.subject).toMatch(/^SERIALNUMBER=\d+,O=SPIFFE,C=US$/);

    await store.dataStore.createAttestedNode({
      node: {
        spiffeId: "spiffe://example.org/spire/agent/x/1",
        attestationDataType: "x",
        certSerialNumber: "1",
        certNotAfter: 1n,
        newCertSerialNumber: "",
        newCertNotAfter: 0n,
        selectors: [],
        canReattest: false,
        agentVersion: "",
      },
    });
    expect((await client.getInfo({})).agentsCount).toBe(0);
    clock.advance(5_000);
    expect((await client.getInfo({})).agentsCount).toBe(1);
  });

  it("fails when the server SVID does not chain to the bundle", async () => {
    clock.advance(5_000);
    const other = await startTestCa({ trustDomain: td, clock });
    await other.rotator.initialize();
    const stranger = await other.ca.signServerX509Svid(spkiOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey));
    await other.close();
    const saved = serverSvid;
    serverSvid = [...stranger.certChain];
    const err = (await client.getInfo({}).catch((e: unknown) => e)) as RpcError;
    serverSvid = saved;
    expect(err.code).toBe(Code.INTERNAL);
    expect(err.message).toMatch(/^failed verification against bundle: /);
  });
});

describe("Go's pkix.Name.String()", () => {
  it("prints standard attributes in Go's order, last first, escaped", () => {
    expect(
      goNameString([
        { type: "2.5.4.3", value: "first" },
        { type: "2.5.4.6", value: "US" },
        { type: "2.5.4.10", value: "Acme, Inc." },
        { type: "2.5.4.10", value: "Beta" },
        { type: "2.5.4.3", value: " last" },
        { type: "2.5.4.5", value: "#12" },
      ]),
    ).toBe("SERIALNUMBER=\\#12,CN=\\ last,O=Acme\\, Inc.+O=Beta,C=US");
  });

  it("prints other attributes as OID=#hex of the ASN.1 string, at the end", () => {
    expect(goNameString([{ type: "1.2.840.113549.1.9.1", value: "a@b" }, { type: "2.5.4.6", value: "US" }])).toBe(
      "C=US,1.2.840.113549.1.9.1=#0c03614062",
    );
    expect(goNameString([{ type: "0.9.2342.19200300.100.1.25", value: "org" }])).toBe("0.9.2342.19200300.100.1.25=#13036f7267");
  });

});
