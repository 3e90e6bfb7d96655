import { createLogger } from "@signet/host-common";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import type { TrustDomainConfig } from "./config.js";
import { startFederation } from "./federation.js";
import { bundleOf, testAuthority } from "./test-bundles.js";

describe("startFederation", () => {
  const a = testAuthority("a.test");
  let ds: TestDataStore;

  beforeAll(async () => {
    ds = await startTestDataStore();
  });
  afterAll(() => ds?.close());

  it("never manages the server's own trust domain, so no endpoint can replace its bundle", async () => {
    const own = bundleOf(a, { sequenceNumber: 5n });
    await ds.dataStore.setBundle({ bundle: own });
    const lines: { level: string; msg: string; trust_domain?: string }[] = [];
    const log = createLogger({ level: "warn", write: (line) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const clock = new ManualClock();
    const federatesWith = new Map<string, TrustDomainConfig>([
      ["a.test", { endpointUrl: "https://127.0.0.1:1", profile: { kind: "https_spiffe", endpointSpiffeId: SpiffeId.parse("spiffe://a.test/spire/server") } }],
      ["b.test", { endpointUrl: "https://127.0.0.1:1", profile: { kind: "https_web" } }],
    ]);
    const federation = await startFederation({
      config: { federatesWith, warnings: [] },
      trustDomain: TrustDomain.parse("a.test"),
      dataStore: ds.dataStore,
      svid: {
        current: () => {
          throw new Error("no bundle endpoint is served");
        },
      },
      clock,
      log,
    });
    try {
      await clock.sleepers(2); // the config loop and b.test's loop
      expect(federation.bundleManager.managedTrustDomains()).toEqual(["b.test"]);
      expect(await federation.bundleManager.refreshBundleFor(TrustDomain.parse("a.test"), new AbortController().signal)).toBe(false);
      await clock.tick(10_000, 2); // one more re-read: the warning is not repeated
      expect(federation.bundleManager.managedTrustDomains()).toEqual(["b.test"]);
      expect(lines.filter((l) => l.msg.includes("own trust domain"))).toEqual([
        expect.objectContaining({ level: "warn", msg: "Ignoring federation relationship for the server's own trust domain", trust_domain: "a.test" }),
      ]);
      expect((await ds.dataStore.fetchBundle({ trustDomain: "a.test" })).bundle?.sequenceNumber).toBe(5n);
    } finally {
      await federation.stop();
    }
    expect(clock.sleeping).toBe(0);
  });
});
