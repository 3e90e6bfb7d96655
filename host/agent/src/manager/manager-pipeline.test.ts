import { createLogger } from "@signet/host-common";
import { describe, expect, it } from "vitest";
import { workloadEntries } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { FakeServerClient } from "../../../../test/fakes/agent-server-client.js";
import { ManualClock } from "../../../../test/fakes/clock.js";
import type { X509SvidResult } from "../client/client.js";
import { AgentCache } from "./cache.js";
import { Manager } from "./manager.js";

/**
 * The fake server behind a gate: each BatchNewX509SVID call is recorded
 * with what the cache held when it was sent and, with `hold`, waits until
 * the test releases it.
 */
class GatedServer extends FakeServerClient {
  readonly sent: { size: number; svidsCachedWhenSent: number }[] = [];
  readonly held: (() => void)[] = [];
  cache: AgentCache | undefined;
  hold = false;
  inFlight = 0;
  maxInFlight = 0;

  override async newX509Svids(params: readonly { entryId: string; csr: Buffer }[]): Promise<X509SvidResult[]> {
    this.sent.push({ size: params.length, svidsCachedWhenSent: this.cache?.svidCount ?? 0 });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.hold) await new Promise<void>((release) => this.held.push(release));
      return await super.newX509Svids(params);
    } finally {
      this.inFlight--;
    }
  }
}

function setup(entryCount: number, hold: boolean) {
  const clock = new ManualClock();
  const server = new GatedServer(new TestAuthority("example.org", clock.now()), clock);
  server.entries = workloadEntries(0, entryCount);
  server.hold = hold;
  const cache = new AgentCache();
  server.cache = cache;
  const manager = new Manager({
    client: server.asServerClient(),
    cache,
    clock,
    log: createLogger({ level: "error", write: () => {} }),
    trustDomain: "example.org",
    keyType: "ec-p256",
    syncIntervalMs: 5_000,
    x509SvidCacheMaxSize: 10_000,
    disableX509SvidPrefetch: false,
    jwtSvidCacheMaxSize: 1000,
    onAgentSvidTainted: () => {},
    onSyncError: () => true,
  });
  return { cache, manager, server };
}

const realTime = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await realTime(5);
  }
}

describe("Manager minting pipeline", () => {
  it("keeps at most two BatchNewX509SVID calls in flight", async () => {
    const h = setup(1001, true);
    const sync = h.manager.synchronize();
    await until(() => h.server.held.length >= 2);
    // The third batch (one entry) is ready at once, but waits for a call to finish.
    await realTime(300);
    expect(h.server.sent.map((s) => s.size)).toEqual([500, 500]);

    h.server.held.shift()!();
    await until(() => h.server.sent.length === 3);
    for (;;) {
      const release = h.server.held.shift();
      if (release) release();
      else if (h.server.sent.length === 3 && h.cache.svidCount === 1001) break;
      await realTime(5);
    }
    await sync;
    expect(h.server.sent.map((s) => s.size)).toEqual([500, 500, 1]);
    expect(h.server.maxInFlight).toBe(2);
    expect(h.cache.svidCount).toBe(1001);
  });

  it("lets the call in flight finish while it prepares the next batch", async () => {
    // The fake server answers one event-loop turn after a call. Preparing 500 keys and CSRs
    // takes many turns' worth of time, so when the manager yields while preparing, the first
    // call's SVIDs are cached before the second call is sent.
    const h = setup(1000, false);
    await h.manager.synchronize();
    expect(h.server.sent).toEqual([
      { size: 500, svidsCachedWhenSent: 0 },
      { size: 500, svidsCachedWhenSent: 500 },
    ]);
    expect(h.cache.svidCount).toBe(1000);
  });
});
