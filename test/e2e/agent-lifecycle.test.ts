// The agent's own SVID over its life against a real signet-server: renewal
// with RenewAgent at half-life (join tokens cannot re-attest) while syncing
// and serving go on, and the stock agent's reactions to PermissionDenied
// details: an evicted join-token agent drops its SVID and stops, a banned
// agent drops its SVID and shuts down.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstX509SvidResponse, startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

let server: TestServer;
const cleanup: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  server = await startTestServer({ agentTtl: "8s" });
}, 120_000);

afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await server?.stop();
});

async function agentWithEntry() {
  const token = await server.joinToken();
  const agentId = `spiffe://example.org/spire/agent/join_token/${token}`;
  await server.createEntry({ spiffeId: `spiffe://example.org/w-${token.slice(0, 8)}`, parentId: agentId, selectors: [`unix:uid:${process.getuid!()}`] });
  const started = await startTestAgent(server, { token, extraAgentConfig: 'experimental { sync_interval = "1s" }' });
  cleanup.push(async () => {
    await started.agent.stop();
    rmSync(started.dir, { recursive: true, force: true });
  });
  return { ...started, agentId };
}

const serial = (der: Buffer) => new X509Certificate(der).serialNumber;

describe("agent SVID lifecycle", () => {
  it("renews its SVID with RenewAgent at half-life and keeps syncing with the new one", async () => {
    const { agent, socketPath } = await agentWithEntry();
    const first = serial(agent.svid.current().chain[0]!);
    const seen = new Set([first]);
    const deadline = Date.now() + 20_000;
    while (seen.size < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen.add(serial(agent.svid.current().chain[0]!));
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    // A sync after the last renewal succeeded, so the server accepted the new serial.
    const renewedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(agent.manager.lastSyncSuccess).toBeGreaterThan(renewedAt - 200);
    // The stored copy follows the renewals.
    const stored = JSON.parse(readFileSync(join(agent.config.dataDir, "agent-data.json"), "utf8"));
    expect(serial(Buffer.from(stored.svid.chain[0], "base64"))).toBe(serial(agent.svid.current().chain[0]!));
    // Workloads are still served.
    const msg = await firstX509SvidResponse(socketPath);
    expect(msg.svids).toHaveLength(1);
  }, 40_000);

  it("drops its SVID and stops when evicted (a join token cannot re-attest)", async () => {
    const { agent, agentId } = await agentWithEntry();
    await server.evictAgent(agentId);
    const outcome = await Promise.race([agent.stopped, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
    expect(outcome?.error).toMatch(/AGENT_NOT_ATTESTED|AGENT_NOT_ACTIVE/);
    const stored = JSON.parse(readFileSync(join(agent.config.dataDir, "agent-data.json"), "utf8"));
    expect(stored.svid).toBeUndefined();
  }, 30_000);

  it("drops its SVID and shuts down when banned", async () => {
    const { agent, agentId } = await agentWithEntry();
    await server.banAgent(agentId);
    const outcome = await Promise.race([agent.stopped, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
    expect(outcome?.error).toBe("agent is banned");
    expect(existsSync(join(agent.config.dataDir, "agent_svid.key"))).toBe(false);
    const stored = JSON.parse(readFileSync(join(agent.config.dataDir, "agent-data.json"), "utf8"));
    expect(stored.svid).toBeUndefined();
  }, 30_000);
});
