import { generateKeyPairSync } from "node:crypto";
import { type AsyncClient, Code, createClient } from "@signet/proto";
import { TrustDomainService } from "@signet/proto/spire/api/server/trustdomain/v1/trustdomain";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf, TrustDomain } from "@signet/spiffe";
import { X509Certificate } from "node:crypto";
import { createLogger } from "@signet/host-common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../../../test/fakes/clock.js";
import { BundleEndpoint } from "../../../federation/bundle-endpoint.js";
import { BundleManager } from "../../../federation/bundle-manager.js";
import { BundleUpdater } from "../../../federation/bundle-updater.js";
import { dataStoreRelationships } from "../../../federation/relationship-source.js";
import { bundleOf, testAuthority, testSvid } from "../../../federation/test-bundles.js";
import { startApiServer, type TestApiServer } from "../../../../../../test/fakes/api-server.js";
import { startTestDataStore, type TestDataStore } from "../../../../../../test/fakes/datastore.js";
import { localCaller } from "../../rpccontext/caller.js";
import { trustDomainServiceImpl } from "./service.js";

const td = TrustDomain.parse("example.org");

function bundle(trustDomain: string): Bundle {
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const asn1 = mintCertificateSync(
    selfSignedCaTemplate({ trustDomain: TrustDomain.parse(trustDomain), spki: spkiOf(keys.publicKey), now: new Date() }),
    keyObjectSigner(keys.privateKey),
  );
  return { trustDomain, x509Authorities: [{ asn1, tainted: false }], jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] };
}

describe("TrustDomain API over gRPC on the SQL DataStore", () => {
  let ds: TestDataStore;
  let api: TestApiServer;
  let relationships: AsyncClient<typeof TrustDomainService>;

  beforeAll(async () => {
    ds = await startTestDataStore();
    api = await startApiServer(
      [{ definition: TrustDomainService, impl: trustDomainServiceImpl({ dataStore: ds.dataStore, trustDomain: td }) }],
      localCaller(),
    );
    relationships = createClient(TrustDomainService, api.channel);
  });
  afterAll(async () => {
    await api?.close();
    await ds?.close();
  });

  it("manages federation relationships with SPIRE's validation", async () => {
    const web = { $case: "httpsWeb" as const, value: {} };
    const good = { trustDomain: "peer.org", bundleEndpointUrl: "https://peer.org/bundle", bundleEndpointProfile: web, trustDomainBundle: undefined };
    const created = await relationships.batchCreateFederationRelationship({
      federationRelationships: [
        good,
        { ...good, trustDomain: "example.org" },
        { ...good, trustDomain: "p2.org", bundleEndpointUrl: "http://p2.org" },
        { ...good, trustDomain: "p3.org", bundleEndpointUrl: "https://user@p3.org" },
        { ...good, trustDomain: "p4.org", bundleEndpointProfile: undefined },
        { ...good, trustDomain: "p5.org", bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "nope" } } },
        { ...good, trustDomain: "p6.org", trustDomainBundle: bundle("other.org") },
      ],
      outputMask: undefined,
    });
    expect(created.results.map((r) => r.status?.message)).toEqual([
      "OK",
      "unable to create federation relationship for server trust domain",
      "failed to convert federation relationship: bundle endpoint URL must use the https scheme",
      "failed to convert federation relationship: bundle endpoint URL must not contain user info",
      "failed to convert federation relationship: unsupported bundle endpoint profile type: <nil>",
      "failed to convert federation relationship: failed to parse endpoint SPIFFE ID: scheme is missing or invalid",
      'failed to convert federation relationship: trust domain bundle ("other.org") must match the trust domain of the federation relationship ("p6.org")',
    ]);
    expect(created.results[0]?.federationRelationship?.bundleEndpointUrl).toBe("https://peer.org/bundle");

    const got = await relationships.getFederationRelationship({ trustDomain: "peer.org", outputMask: undefined });
    expect(got.bundleEndpointProfile?.$case).toBe("httpsWeb");
    await expect(relationships.getFederationRelationship({ trustDomain: "none.org", outputMask: undefined })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: "federation relationship does not exist",
    });
    const listed = await relationships.listFederationRelationships({ outputMask: undefined, pageSize: 0, pageToken: "" });
    expect(listed.federationRelationships.map((f) => f.trustDomain)).toEqual(["peer.org"]);

    const spiffe = { $case: "httpsSpiffe" as const, value: { endpointSpiffeId: "spiffe://peer.org/spire/server" } };
    const updated = await relationships.batchUpdateFederationRelationship({
      federationRelationships: [{ ...good, bundleEndpointProfile: spiffe, bundleEndpointUrl: "https://peer.org:8443" }],
      inputMask: { bundleEndpointUrl: false, bundleEndpointProfile: true, trustDomainBundle: false },
      outputMask: undefined,
    });
    expect(updated.results[0]?.status?.code).toBe(0);
    expect(updated.results[0]?.federationRelationship?.bundleEndpointProfile).toEqual(spiffe);
    expect(updated.results[0]?.federationRelationship?.bundleEndpointUrl).toBe("https://peer.org/bundle");

    await expect(relationships.refreshBundle({ trustDomain: "peer.org" })).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: "federation bundle refresh is not configured",
    });

    const deleted = await relationships.batchDeleteFederationRelationship({ trustDomains: ["peer.org", "", "peer.org"] });
    expect(deleted.results.map((r) => r.status?.message)).toEqual(["OK", "missing trust domain", "federation relationship not found"]);
  });
});

describe("TrustDomain API RefreshBundle with the federation bundle client", () => {
  const log = createLogger({ level: "fatal" });
  const peer = testAuthority("peer.org");
  const peerSvid = testSvid(peer, "spiffe://peer.org/spire/server");
  const endpoint = new BundleEndpoint({
    address: "127.0.0.1",
    port: 0,
    refreshHintSeconds: 300,
    bundle: async () => bundleOf(peer),
    identity: { kind: "https_spiffe", svid: { current: () => ({ certChain: peerSvid.chain, privateKey: peerSvid.key }) } },
    log,
  });
  let ds: TestDataStore;
  let api: TestApiServer;
  let manager: BundleManager;
  let reloads = 0;
  let relationships: AsyncClient<typeof TrustDomainService>;

  beforeAll(async () => {
    await endpoint.start();
    ds = await startTestDataStore();
    manager = new BundleManager({
      source: dataStoreRelationships(ds.dataStore, () => {}),
      newUpdater: (trustDomain, config) => new BundleUpdater(trustDomain, config, ds.dataStore),
      clock: new ManualClock(),
      log,
    });
    const bundleRefresher = {
      triggerConfigReload: () => {
        reloads++;
        manager.triggerConfigReload();
      },
      refreshBundleFor: manager.refreshBundleFor.bind(manager),
    };
    api = await startApiServer(
      [{ definition: TrustDomainService, impl: trustDomainServiceImpl({ dataStore: ds.dataStore, trustDomain: td, bundleRefresher }) }],
      localCaller(),
    );
    relationships = createClient(TrustDomainService, api.channel);
  });
  afterAll(async () => {
    await manager?.stop();
    await api?.close();
    await ds?.close();
    await endpoint.stop();
  });

  it("fetches the bundle of a related trust domain now, and answers SPIRE's codes otherwise", async () => {
    await expect(relationships.refreshBundle({ trustDomain: "peer.org" })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: 'no relationship with trust domain "peer.org"',
    });
    await expect(relationships.refreshBundle({ trustDomain: "Peer Org" })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/^failed to parse trust domain: /),
    });

    // The relationship's trust_domain_bundle is what authenticates the endpoint the first time.
    const bootstrap = bundleOf(peer, { jwtAuthorities: [] });
    const created = await relationships.batchCreateFederationRelationship({
      federationRelationships: [
        {
          trustDomain: "peer.org",
          bundleEndpointUrl: `https://127.0.0.1:${endpoint.port}`,
          bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "spiffe://peer.org/spire/server" } },
          trustDomainBundle: bootstrap,
        },
        {
          trustDomain: "down.org",
          bundleEndpointUrl: "https://127.0.0.1:1",
          bundleEndpointProfile: { $case: "httpsWeb", value: {} },
          trustDomainBundle: undefined,
        },
      ],
      outputMask: undefined,
    });
    expect(created.results.map((r) => r.status?.code)).toEqual([0, 0]);
    expect(reloads).toBe(1);

    await relationships.refreshBundle({ trustDomain: "peer.org" });
    const stored = (await ds.dataStore.fetchBundle({ trustDomain: "peer.org" })).bundle;
    expect(stored?.refreshHint).toBe(300n);
    expect(stored?.jwtAuthorities.map((k) => k.keyId)).toEqual(["jwt-1"]);
    expect(new X509Certificate(stored!.x509Authorities[0]!.asn1).raw.equals(peer.der)).toBe(true);

    await expect(relationships.refreshBundle({ trustDomain: "down.org" })).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: expect.stringMatching(
        /^failed to refresh bundle: failed to fetch federated bundle from endpoint: failed to fetch bundle: Get "https:\/\/127\.0\.0\.1:1": .*ECONNREFUSED/,
      ),
    });

    const failed = await relationships.batchDeleteFederationRelationship({ trustDomains: ["none.org"] });
    expect(failed.results[0]?.status?.code).toBe(Code.NOT_FOUND);
    expect(reloads).toBe(1);
    await relationships.batchDeleteFederationRelationship({ trustDomains: ["down.org"] });
    expect(reloads).toBe(2);
    await expect(relationships.refreshBundle({ trustDomain: "down.org" })).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });
});
