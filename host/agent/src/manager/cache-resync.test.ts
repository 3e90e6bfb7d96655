import { describe, expect, it } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { AgentCache } from "./cache.js";

describe("AgentCache resync", () => {
  it("does not wake subscribers when a sync returns the same entries as new objects (SyncAuthorizedEntries' single-reply path)", async () => {
    const cache = new AgentCache();
    cache.setEntries([workloadEntry(1), workloadEntry(2)]);
    const sub = cache.subscribe(selectors("unix:uid:1"));
    const before = sub.current().identities;
    let woken = false;
    const ac = new AbortController();
    void sub.changed(ac.signal).then(() => {
      if (!ac.signal.aborted) woken = true;
    });
    // ≤ 500 entries: the client decodes every entry afresh on each sync.
    cache.setEntries([workloadEntry(1), workloadEntry(2)]);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    expect(woken).toBe(false);
    expect(sub.current().identities).toEqual(before);
  });
});
