import { createLogger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import { describe, expect, it } from "vitest";
import { workloadEntries } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { FakeServerClient } from "../../../../test/fakes/agent-server-client.js";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { AgentCache } from "./cache.js";
import { Manager } from "./manager.js";

function setup() {
  const clock = new ManualClock();
  const server = new FakeServerClient(new TestAuthority("example.org", clock.now()), clock);
  const cache = new AgentCache();
  const manager = new Manager({
    client: server.asServerClient(),
    cache,
    clock,
    log: createLogger({ level: "error", write: () => {} }),
    trustDomain: "example.org",
    keyType: "ec-p256",
    syncIntervalMs: 5_000,
    x509SvidCacheMaxSize: 1000,
    disableX509SvidPrefetch: false,
    jwtSvidCacheMaxSize: 1000,
    onAgentSvidTainted: () => {},
    onSyncError: () => true,
  });
  server.entries = workloadEntries(0, 1);
  return { clock, server, cache, manager };
}

/** Lets the manager run for `ms` of real time while the manual clock stands still. */
const realTime = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Manager rotation retries", () => {
  it("backs off when re-minting an SVID past its rotation time fails, instead of retrying at once in a loop", async () => {
    const { clock, server, cache, manager } = setup();
    await manager.synchronize();
    server.failAlways("newX509Svids", new RpcError(Code.UNAVAILABLE, "connection refused"));
    manager.start();
    await clock.sleepers();
    clock.advance(Math.ceil(cache.svidOf("entry-00000")!.rotateAt - clock.now().getTime()));
    await realTime(200);
    const calls = server.calls.newX509Svids.length - 1;
    await manager.stop();
    // Time has not moved: one attempt at the rotation time, the next after the backoff.
    expect(calls).toBe(1);
  });

  it("does not re-ask at once for an SVID due for rotation that the server refused", async () => {
    const { clock, server, cache, manager } = setup();
    await manager.synchronize();
    server.refused.set("entry-00000", { code: Code.PERMISSION_DENIED, message: "not authorized" });
    manager.start();
    await clock.sleepers();
    clock.advance(Math.ceil(cache.svidOf("entry-00000")!.rotateAt - clock.now().getTime()));
    await realTime(200);
    const calls = server.calls.newX509Svids.length - 1;
    await manager.stop();
    expect(calls).toBe(1);
  });
});
