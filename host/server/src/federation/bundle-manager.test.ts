import { createLogger } from "@signet/host-common";
import { Code, isRpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import type { BundleClientConfig } from "./bundle-client.js";
import { BundleManager } from "./bundle-manager.js";
import { BundleUpdater } from "./bundle-updater.js";
import type { TrustDomainConfig } from "./config.js";
import { dataStoreRelationships, mergeRelationships, staticRelationships } from "./relationship-source.js";
import { bundleOf, testAuthority } from "./test-bundles.js";

const log = createLogger({ level: "fatal" });
const b = testAuthority("b.test");
const c = testAuthority("c.test");

/** Stands in for the bundle endpoints: answers per trust domain, records each fetch. */
class Endpoints {
  readonly answers = new Map<string, Bundle | Error>();
  readonly fetches: BundleClientConfig[] = [];
  fetch = async (config: BundleClientConfig): Promise<Bundle> => {
    this.fetches.push(config);
    const answer = this.answers.get(config.trustDomain.name) ?? new Error("connection refused");
    if (answer instanceof Error) throw answer;
    return { ...answer, trustDomain: config.trustDomain.name };
  };
  count(td: string): number {
    return this.fetches.filter((f) => f.trustDomain.name === td).length;
  }
}

async function storedBundle(ds: TestDataStore, td: string): Promise<Bundle | undefined> {
  try {
    return (await ds.dataStore.fetchBundle({ trustDomain: td })).bundle;
  } catch (err) {
    if (isRpcError(err) && err.code === Code.NOT_FOUND) return undefined;
    throw err;
  }
}

describe("BundleManager", () => {
  let ds: TestDataStore;
  let clock: ManualClock;
  let endpoints: Endpoints;
  let manager: BundleManager;
  let configured: Map<string, TrustDomainConfig>;
  let bundleWrites: number;

  beforeAll(async () => {
    ds = await startTestDataStore();
  });
  afterAll(() => ds?.close());

  beforeEach(async () => {
    for (const fr of (await ds.dataStore.listFederationRelationships({ pageSize: 0, pageToken: "" })).federationRelationships) {
      await ds.dataStore.deleteFederationRelationship({ trustDomain: fr.trustDomain });
    }
    for (const td of ["b.test", "c.test"]) {
      if (await storedBundle(ds, td)) await ds.dataStore.deleteBundle({ trustDomain: td, mode: 0 });
    }
    clock = new ManualClock();
    endpoints = new Endpoints();
    configured = new Map();
    bundleWrites = 0;
    const updaterStore = {
      fetchBundle: (req: { trustDomain: string }) => ds.dataStore.fetchBundle(req),
      setBundle: (req: { bundle: Bundle | undefined }) => {
        bundleWrites++;
        return ds.dataStore.setBundle(req);
      },
    };
    manager = new BundleManager({
      source: mergeRelationships(staticRelationships(configured), dataStoreRelationships(ds.dataStore, () => {})),
      newUpdater: (td, config) => new BundleUpdater(td, config, updaterStore, endpoints.fetch),
      clock,
      log,
    });
  });
  afterEach(() => manager.stop());

  it("fetches and stores a relationship's bundle, then polls four times per refresh hint without rewriting an unchanged bundle", async () => {
    configured.set("b.test", { endpointUrl: "https://b.test:8443", profile: { kind: "https_web" } });
    endpoints.answers.set("b.test", bundleOf(b, { refreshHint: 400n, sequenceNumber: 1n }));
    manager.start();
    await clock.sleepers(2); // the config loop and b.test's loop
    expect(manager.managedTrustDomains()).toEqual(["b.test"]);
    const stored = await storedBundle(ds, "b.test");
    expect(stored?.refreshHint).toBe(400n);
    expect(Buffer.from(stored!.x509Authorities[0]!.asn1).equals(b.der)).toBe(true);
    expect(endpoints.fetches[0]).toMatchObject({ endpointUrl: "https://b.test:8443" });
    expect(endpoints.fetches[0]?.spiffeAuth).toBeUndefined();

    await clock.tick(99_999, 2);
    expect(endpoints.count("b.test")).toBe(1);
    await clock.tick(1, 2);
    expect(endpoints.count("b.test")).toBe(2);
    expect(bundleWrites).toBe(1);

    // A changed bundle is stored; one that fails to fetch leaves the stored one and retries on its schedule.
    endpoints.answers.set("b.test", bundleOf(b, { refreshHint: 120n, sequenceNumber: 2n }));
    await clock.tick(100_000, 2);
    expect((await storedBundle(ds, "b.test"))?.sequenceNumber).toBe(2n);
    expect(bundleWrites).toBe(2);
    endpoints.answers.set("b.test", new Error("connection refused"));
    await clock.tick(30_000, 2);
    expect(endpoints.count("b.test")).toBe(4);
    expect((await storedBundle(ds, "b.test"))?.sequenceNumber).toBe(2n);
    await clock.tick(30_000, 2);
    expect(endpoints.count("b.test")).toBe(5);
  });

  it("authenticates https_spiffe endpoints with the bundle held for the endpoint's trust domain, retrying every minute until there is one", async () => {
    const endpointSpiffeId = SpiffeId.parse("spiffe://b.test/spire/server");
    configured.set("b.test", { endpointUrl: "https://b.test:8443", profile: { kind: "https_spiffe", endpointSpiffeId } });
    endpoints.answers.set("b.test", bundleOf(b, { refreshHint: 400n }));
    manager.start();
    await clock.sleepers(2);
    expect(endpoints.count("b.test")).toBe(0);
    await expect(manager.refreshBundleFor(TrustDomain.parse("b.test"), new AbortController().signal)).rejects.toThrow(
      "can't perform SPIFFE Authentication: local copy of bundle not found",
    );

    await ds.dataStore.setBundle({ bundle: bundleOf(b) });
    await clock.tick(60_000, 2);
    expect(endpoints.count("b.test")).toBe(1);
    expect(endpoints.fetches[0]?.spiffeAuth?.endpointSpiffeId.toString()).toBe("spiffe://b.test/spire/server");
    expect(endpoints.fetches[0]?.spiffeAuth?.roots.map((r) => r.raw.equals(b.der))).toEqual([true]);
  });

  it("follows relationships added, changed and removed in the DataStore; the config wins for a trust domain in both", async () => {
    configured.set("b.test", { endpointUrl: "https://config.b.test", profile: { kind: "https_web" } });
    await ds.dataStore.createFederationRelationship({
      federationRelationship: { trustDomain: "b.test", bundleEndpointUrl: "https://stored.b.test", bundleEndpointProfile: { $case: "httpsWeb", value: {} }, trustDomainBundle: undefined },
    });
    manager.start();
    await clock.sleepers(2);
    expect(endpoints.fetches.map((f) => f.endpointUrl)).toEqual(["https://config.b.test"]);

    const unknown = TrustDomain.parse("c.test");
    expect(await manager.refreshBundleFor(unknown, new AbortController().signal)).toBe(false);

    await ds.dataStore.createFederationRelationship({
      federationRelationship: { trustDomain: "c.test", bundleEndpointUrl: "https://c.test", bundleEndpointProfile: { $case: "httpsWeb", value: {} }, trustDomainBundle: undefined },
    });
    endpoints.answers.set("c.test", bundleOf(c));
    manager.triggerConfigReload();
    await clock.tick(0, 3);
    expect(manager.managedTrustDomains()).toEqual(["b.test", "c.test"]);
    expect(await storedBundle(ds, "c.test")).toBeDefined();
    expect(await manager.refreshBundleFor(unknown, new AbortController().signal)).toBe(true);

    await ds.dataStore.updateFederationRelationship({
      federationRelationship: { trustDomain: "c.test", bundleEndpointUrl: "https://new.c.test", bundleEndpointProfile: { $case: "httpsWeb", value: {} }, trustDomainBundle: undefined },
      inputMask: { bundleEndpointUrl: true, bundleEndpointProfile: false, trustDomainBundle: false },
    });
    expect(await manager.refreshBundleFor(unknown, new AbortController().signal)).toBe(true);
    expect(endpoints.fetches.at(-1)?.endpointUrl).toBe("https://new.c.test");

    await ds.dataStore.deleteFederationRelationship({ trustDomain: "c.test" });
    clock.advance(10_000);
    await expect.poll(() => manager.managedTrustDomains()).toEqual(["b.test"]);
    // The bundle stays: removing a relationship stops the polling, not the trust.
    expect(await storedBundle(ds, "c.test")).toBeDefined();
  });
});

describe("BundleManager stop", () => {
  it("waits for a RefreshBundle reconciliation under way, so no refresh loop it would start outlives stop()", async () => {
    const clock = new ManualClock();
    const endpoints = new Endpoints();
    const configs = new Map<string, TrustDomainConfig>();
    let release: () => void = () => {};
    let gate: Promise<void> | undefined;
    let entered: () => void = () => {};
    const manager = new BundleManager({
      source: {
        trustDomainConfigs: async () => {
          entered();
          await gate;
          return configs;
        },
      },
      newUpdater: (td, config) =>
        new BundleUpdater(td, config, { fetchBundle: async () => ({ bundle: undefined }), setBundle: async (req) => ({ bundle: req.bundle }) }, endpoints.fetch),
      clock,
      log,
    });
    manager.start();
    await clock.sleepers(1); // the config loop, parked with nothing to manage

    // RefreshBundle re-reads the relationships; the read is slow, and a relationship appears meanwhile.
    gate = new Promise((resolve) => (release = resolve));
    const reading = new Promise<void>((resolve) => (entered = resolve));
    configs.set("b.test", { endpointUrl: "https://b.test", profile: { kind: "https_web" } });
    const refreshed = manager.refreshBundleFor(TrustDomain.parse("b.test"), new AbortController().signal);
    await reading; // the reconciliation is under way when stop() is called
    const stopped = manager.stop();
    release();
    await stopped;

    expect(await refreshed).toBe(false);
    expect(manager.managedTrustDomains()).toEqual([]);
    expect(clock.sleeping).toBe(0);
    expect(endpoints.fetches).toEqual([]);
  });
});

describe("BundleUpdater", () => {
  it("does not store a fetched bundle once its loop was stopped mid-fetch (relationship removed, server stopping)", async () => {
    const writes: Bundle[] = [];
    const stop = new AbortController();
    const updater = new BundleUpdater(
      TrustDomain.parse("b.test"),
      { endpointUrl: "https://b.test", profile: { kind: "https_web" } },
      {
        fetchBundle: async () => ({ bundle: undefined }),
        setBundle: async (req) => {
          writes.push(req.bundle!);
          return { bundle: req.bundle };
        },
      },
      async (config) => {
        stop.abort(); // the answer arrives just as the loop is stopped
        return bundleOf(b, { trustDomain: config.trustDomain.name });
      },
    );
    const result = await updater.updateBundle(stop.signal);
    expect(result.error?.message).toBe("bundle update cancelled before the fetched bundle was stored");
    expect(result.stored).toBeUndefined();
    expect(writes).toEqual([]);
  });
});
