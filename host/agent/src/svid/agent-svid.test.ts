import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { FakeServerClient } from "../../../../test/fakes/agent-server-client.js";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { AgentStorage } from "../storage/storage.js";
import { AgentSvid, type AgentSvidOptions, type AgentSvidState } from "./agent-svid.js";

const agentId = "spiffe://example.org/spire/agent/join_token/test";

let dir: string;
let clock: ManualClock;
let ca: TestAuthority;
let server: FakeServerClient;
let storage: AgentStorage;
let lines: string[];
let running: AgentSvid[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signet-agent-svid-"));
  clock = new ManualClock();
  ca = new TestAuthority("example.org", clock.now());
  server = new FakeServerClient(ca, clock);
  server.agentSpiffeId = agentId;
  storage = new AgentStorage(dir, true);
  lines = [];
  running = [];
});
afterEach(async () => {
  for (const r of running) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  readonly svid: AgentSvid;
  readonly rotated: AgentSvidState[];
  readonly errors: unknown[];
  reattests: number;
}

/** An AgentSvid over a 1 h SVID minted now, renewing through the fake server, reattesting through the authority. */
function harness(options: { reattestable?: boolean; onError?: (err: unknown) => boolean; extra?: Partial<AgentSvidOptions> } = {}): Harness {
  const initial = ca.svid(agentId, clock.now(), 3600);
  const h: Harness = { svid: undefined as unknown as AgentSvid, rotated: [], errors: [], reattests: 0 };
  const svid = new AgentSvid(
    { ...initial, reattestable: options.reattestable ?? false },
    {
      clock,
      log: createLogger({ level: "debug", write: (l) => void lines.push(l) }),
      storage,
      reattest: async () => {
        h.reattests++;
        return { ...ca.svid(agentId, clock.now(), 3600), reattestable: true };
      },
      renew: async (csr) => (await server.renewAgent(csr)).certChain,
      onRotated: (state) => {
        h.rotated.push(state);
        server.release();
      },
      onError: (err) => {
        h.errors.push(err);
        return options.onError ? options.onError(err) : true;
      },
      ...options.extra,
    },
  );
  (h as { svid: AgentSvid }).svid = svid;
  running.push(svid);
  return h;
}

/** Whole milliseconds from now until the SVID's rotation time (rotateAt is fractional: jittered). */
const untilRotation = (svid: AgentSvid) => Math.ceil(svid.current().rotateAt - clock.now().getTime());

describe("AgentSvid rotation", () => {
  it("computes rotateAt within the jittered half-life of the SVID", () => {
    const { svid } = harness();
    const { notBefore, notAfter } = svid.current().validity;
    const half = (notAfter - notBefore) / 2;
    expect(svid.current().rotateAt).toBeGreaterThanOrEqual(notAfter - 1.1 * half);
    expect(svid.current().rotateAt).toBeLessThanOrEqual(notAfter - 0.9 * half);
  });

  it("renews (non-reattestable) exactly at rotateAt, stores the new SVID and calls onRotated", async () => {
    const h = harness();
    const old = h.svid.current();
    h.svid.start();
    await clock.sleepers();
    await clock.tick(untilRotation(h.svid) - 1);
    expect(server.calls.renewAgent).toBe(0);
    expect(h.rotated).toHaveLength(0);

    await clock.tick(1);
    expect(server.calls.renewAgent).toBe(1);
    expect(h.reattests).toBe(0);
    expect(h.rotated).toHaveLength(1);
    const now = h.svid.current();
    expect(h.rotated[0]).toBe(now);
    expect(now.chain[0]).not.toEqual(old.chain[0]);
    expect(now.privateKey.equals(old.privateKey)).toBe(false);
    expect(now.reattestable).toBe(false);
    // The new SVID is valid from the rotation time, so the next rotation is an hour's half-life later.
    // (X.509 times have whole seconds.)
    expect(now.validity.notAfter).toBe(Math.floor((clock.now().getTime() + 3600_000) / 1000) * 1000);
    expect(now.rotateAt).toBeGreaterThan(clock.now().getTime() + 1_600_000);
    expect(server.calls.release).toBe(1);

    const stored = await storage.loadSvid();
    expect(stored?.chain).toEqual(now.chain);
    expect(stored?.privateKey?.equals(now.privateKey)).toBe(true);
    expect(stored?.reattestable).toBe(false);
  });

  it("re-attests a reattestable agent instead of renewing", async () => {
    const h = harness({ reattestable: true });
    h.svid.start();
    await clock.sleepers();
    await clock.tick(untilRotation(h.svid));
    expect(h.reattests).toBe(1);
    expect(server.calls.renewAgent).toBe(0);
    expect(h.rotated).toHaveLength(1);
    expect(h.svid.current().reattestable).toBe(true);
    expect((await storage.loadSvid())?.reattestable).toBe(true);
  });

  it("rotates again an SVID's half-life after the previous rotation", async () => {
    const h = harness();
    h.svid.start();
    await clock.sleepers();
    await clock.tick(untilRotation(h.svid));
    await clock.tick(untilRotation(h.svid));
    expect(server.calls.renewAgent).toBe(2);
    expect(h.rotated).toHaveLength(2);
  });

  it("retries with backoff while onError answers true", async () => {
    const h = harness();
    server.failNext("renewAgent", new RpcError(Code.UNAVAILABLE, "connection refused"), 2);
    h.svid.start();
    await clock.sleepers();
    await clock.tick(untilRotation(h.svid));
    expect(server.calls.renewAgent).toBe(1);
    expect(h.errors).toHaveLength(1);
    // First retry after 1 s, the next after 2 s.
    await clock.tick(999);
    expect(server.calls.renewAgent).toBe(1);
    await clock.tick(1);
    expect(server.calls.renewAgent).toBe(2);
    await clock.tick(1_999);
    expect(server.calls.renewAgent).toBe(2);
    await clock.tick(1);
    expect(server.calls.renewAgent).toBe(3);
    expect(h.rotated).toHaveLength(1);
    expect(h.errors).toHaveLength(2);
    expect(lines.filter((l) => JSON.parse(l).msg === "Could not rotate agent SVID")).toHaveLength(2);
  });

  it("stops when onError answers false", async () => {
    const h = harness({ onError: () => false });
    server.failAlways("renewAgent", new RpcError(Code.PERMISSION_DENIED, "agent is banned"));
    h.svid.start();
    await clock.sleepers();
    clock.advance(untilRotation(h.svid));
    await expect.poll(() => h.errors.length).toBe(1);
    // The loop has ended: stop() resolves at once and no sleeper is left.
    await h.svid.stop();
    expect(clock.sleeping).toBe(0);
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(server.calls.renewAgent).toBe(1);
    expect((h.errors[0] as RpcError).code).toBe(Code.PERMISSION_DENIED);
  });

  it("rotates at the next check after forceRotation, long before rotateAt", async () => {
    const h = harness();
    h.svid.start();
    await clock.sleepers();
    await clock.tick(60_000);
    expect(server.calls.renewAgent).toBe(0);
    h.svid.forceRotation();
    await clock.tick(5_000);
    expect(server.calls.renewAgent).toBe(1);
    expect(h.rotated).toHaveLength(1);
    // The forced flag is cleared by the rotation.
    await clock.tick(5_000);
    expect(server.calls.renewAgent).toBe(1);
  });

  it("rotate() rotates at once, whatever the time", async () => {
    const h = harness();
    await h.svid.rotate();
    expect(server.calls.renewAgent).toBe(1);
    expect(h.rotated).toHaveLength(1);
  });

  it("stop() ends a sleeping loop", async () => {
    const h = harness();
    h.svid.start();
    await clock.sleepers();
    await h.svid.stop();
    expect(clock.sleeping).toBe(0);
  });
});
