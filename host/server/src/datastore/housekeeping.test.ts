// Housekeeping against the real SQL DataStore: expired join tokens and
// entries go, live ones stay, and each removal is logged once.
import { Entry } from "@signet/proto/spire/api/types/entry";
import { createLogger } from "@signet/host-common";
import { Code } from "@signet/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import { Housekeeping } from "./housekeeping.js";

let store: TestDataStore;
beforeAll(async () => {
  store = await startTestDataStore();
}, 60_000);
afterAll(async () => {
  await store?.close();
});

function entry(path: string, expiresAt: bigint): Entry {
  return Entry.fromPartial({
    spiffeId: { trustDomain: "example.org", path },
    parentId: { trustDomain: "example.org", path: "/node" },
    selectors: [{ type: "unix", value: "uid:1000" }],
    expiresAt,
  });
}

describe("Housekeeping", () => {
  it("prunes what expired and keeps the rest", async () => {
    const ds = store.dataStore;
    const now = 1_800_000_000;
    await ds.createJoinToken({ token: { value: "old", expiresAt: BigInt(now - 1) } });
    await ds.createJoinToken({ token: { value: "live", expiresAt: BigInt(now + 600) } });
    await ds.createEntries({ entries: [entry("/old", BigInt(now - 1)), entry("/live", BigInt(now + 600)), entry("/forever", 0n)] });

    const lines: string[] = [];
    const housekeeping = new Housekeeping({
      dataStore: ds,
      log: createLogger({ write: (l) => void lines.push(l) }),
      now: () => now,
      pruneEventsOlderThanSeconds: 3600,
    });
    await housekeeping.runOnce();

    await expect(ds.fetchJoinToken({ value: "old" })).rejects.toMatchObject({ code: Code.NOT_FOUND });
    expect((await ds.fetchJoinToken({ value: "live" })).token?.value).toBe("live");
    const left = (await ds.countEntries({ filter: undefined })).count;
    expect(left).toBe(2);
    expect(lines.filter((l) => l.includes("Pruned expired registration entries"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("Pruned expired join tokens"))).toHaveLength(1);

    // A second pass finds nothing and says nothing.
    lines.length = 0;
    await housekeeping.runOnce();
    expect(lines.filter((l) => l.includes("Pruned expired"))).toHaveLength(0);
  });
});
