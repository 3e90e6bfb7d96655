import { generateKeyPairSync } from "node:crypto";
import { type AsyncClient, Code, createClient } from "@signet/proto";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type TestApiServer } from "../../../../../../test/fakes/api-server.js";
import { startTestDataStore, type TestDataStore } from "../../../../../../test/fakes/datastore.js";
import { localCaller } from "../../rpccontext/caller.js";
import { bundleServiceImpl } from "./service.js";

const td = TrustDomain.parse("example.org");

function caDer(name = "example.org"): Buffer {
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return mintCertificateSync(
    selfSignedCaTemplate({ trustDomain: TrustDomain.parse(name), spki: spkiOf(keys.publicKey), now: new Date() }),
    keyObjectSigner(keys.privateKey),
  );
}

function jwtKey(keyId: string): JWTKey {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { publicKey: publicKey.export({ type: "spki", format: "der" }), keyId, expiresAt: 0n, tainted: false };
}

function bundle(trustDomain: string, over: Partial<Bundle> = {}): Bundle {
  return {
    trustDomain,
    x509Authorities: [{ asn1: caDer(), tainted: false }],
    jwtAuthorities: [],
    refreshHint: 0n,
    sequenceNumber: 0n,
    witAuthorities: [],
    ...over,
  };
}

describe("Bundle API over gRPC on the SQL DataStore", () => {
  let ds: TestDataStore;
  let api: TestApiServer;
  let bundles: AsyncClient<typeof BundleService>;
  const published: JWTKey[] = [];

  beforeAll(async () => {
    ds = await startTestDataStore();
    const publishJwtKey = async (key: JWTKey) => {
      published.push(key);
      const { bundle: stored } = await ds.dataStore.appendBundle({ bundle: bundle(td.name, { x509Authorities: [], jwtAuthorities: [key] }) });
      return stored?.jwtAuthorities ?? [];
    };
    api = await startApiServer(
      [
        { definition: BundleService, impl: bundleServiceImpl({ dataStore: ds.dataStore, trustDomain: td, publishJwtKey }) },
      ],
      localCaller(),
    );
    bundles = createClient(BundleService, api.channel);
  });
  afterAll(async () => {
    await api?.close();
    await ds?.close();
  });

  it("serves the own bundle, appends authorities and publishes downstream JWT keys", async () => {
    await expect(bundles.getBundle({ outputMask: undefined })).rejects.toMatchObject({ code: Code.NOT_FOUND, message: "bundle not found" });
    await expect(bundles.appendBundle({ x509Authorities: [], jwtAuthorities: [], witAuthorities: [], outputMask: undefined })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "no authorities to append",
    });
    await expect(
      bundles.appendBundle({ x509Authorities: [{ asn1: Buffer.from("junk"), tainted: false }], jwtAuthorities: [], witAuthorities: [], outputMask: undefined }),
    ).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "failed to convert X.509 authority: x509: malformed certificate" });
    await expect(
      bundles.appendBundle({ x509Authorities: [], jwtAuthorities: [{ ...jwtKey("k"), keyId: "" }], witAuthorities: [], outputMask: undefined }),
    ).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "failed to convert JWT authority: missing key ID" });

    const appended = await bundles.appendBundle({
      x509Authorities: [{ asn1: caDer(), tainted: true }],
      jwtAuthorities: [jwtKey("k1")],
      witAuthorities: [],
      outputMask: undefined,
    });
    expect(appended.trustDomain).toBe("example.org");
    expect(appended.x509Authorities).toHaveLength(1);
    expect(appended.x509Authorities[0]?.tainted).toBe(false);

    const masked = await bundles.getBundle({
      outputMask: { x509Authorities: false, jwtAuthorities: true, refreshHint: false, sequenceNumber: false, witAuthorities: false },
    });
    expect(masked.x509Authorities).toEqual([]);
    expect(masked.jwtAuthorities.map((k) => k.keyId)).toEqual(["k1"]);

    const pub = await bundles.publishJwtAuthority({ jwtAuthority: jwtKey("downstream-1") });
    expect(pub.jwtAuthorities.map((k) => k.keyId)).toEqual(["k1", "downstream-1"]);
    expect(published.map((k) => k.keyId)).toEqual(["downstream-1"]);
    await expect(bundles.publishJwtAuthority({ jwtAuthority: undefined })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "missing JWT authority",
    });
    await expect(bundles.publishWitAuthority({ witAuthority: undefined })).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
  });

  it("manages federated bundles and refuses the own trust domain", async () => {
    const created = await bundles.batchCreateFederatedBundle({
      bundle: [bundle("fed.org"), bundle("example.org"), bundle("Bad"), bundle("fed.org"), bundle("x.org", { x509Authorities: [{ asn1: Buffer.from([1]), tainted: false }] })],
      outputMask: undefined,
    });
    expect(created.results.map((r) => r.status)).toEqual([
      { code: 0, message: "OK" },
      { code: Code.INVALID_ARGUMENT, message: "creating a federated bundle for the server's own trust domain is not allowed" },
      {
        code: Code.INVALID_ARGUMENT,
        message: "trust domain argument is not valid: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
      },
      { code: Code.ALREADY_EXISTS, message: "bundle already exists" },
      { code: Code.INVALID_ARGUMENT, message: "failed to convert bundle: unable to parse X.509 authority: x509: malformed certificate" },
    ]);

    const list = await bundles.listFederatedBundles({ outputMask: undefined, pageSize: 0, pageToken: "" });
    expect(list.bundles.map((b) => b.trustDomain)).toEqual(["fed.org"]);
    expect((await bundles.countBundles({})).count).toBe(2);
    await expect(bundles.getFederatedBundle({ trustDomain: "example.org", outputMask: undefined })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "getting a federated bundle for the server's own trust domain is not allowed",
    });
    await expect(bundles.getFederatedBundle({ trustDomain: "nope.org", outputMask: undefined })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: "bundle not found",
    });

    const updated = await bundles.batchUpdateFederatedBundle({
      bundle: [bundle("fed.org", { refreshHint: 60n }), bundle("nope.org")],
      inputMask: { x509Authorities: false, jwtAuthorities: false, refreshHint: true, sequenceNumber: false, witAuthorities: false },
      outputMask: undefined,
    });
    expect(updated.results[0]?.bundle?.refreshHint).toBe(60n);
    expect(updated.results[1]?.status).toEqual({ code: Code.NOT_FOUND, message: "bundle not found" });

    const set = await bundles.batchSetFederatedBundle({ bundle: [bundle("set.org", { sequenceNumber: 7n })], outputMask: undefined });
    expect(set.results[0]?.bundle?.sequenceNumber).toBe(7n);

    const deleted = await bundles.batchDeleteFederatedBundle({ trustDomains: ["set.org", "example.org", "gone.org"], mode: 0 });
    expect(deleted.results.map((r) => [r.trustDomain, r.status?.code, r.status?.message])).toEqual([
      ["set.org", 0, "OK"],
      ["example.org", Code.INVALID_ARGUMENT, "removing the bundle for the server trust domain is not allowed"],
      ["gone.org", Code.NOT_FOUND, "bundle not found"],
    ]);
    await expect(bundles.batchDeleteFederatedBundle({ trustDomains: ["fed.org"], mode: 7 as never })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
  });

});
