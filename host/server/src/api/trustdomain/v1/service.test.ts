import { generateKeyPairSync } from "node:crypto";
import { type AsyncClient, Code, createClient } from "@signet/proto";
import { TrustDomainService } from "@signet/proto/spire/api/server/trustdomain/v1/trustdomain";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
