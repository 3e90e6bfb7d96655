// signet-agent attesting through a NodeAttestor plugin on both sides:
// x509pop (the agent proves possession of a certificate's key in a
// challenge/response relayed by signet-server), then rotating its SVID by
// re-attestation, as a re-attestable agent does, while serving workloads.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent } from "@signet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { intermediateCa, leafCert, rootCa, writeAgentFiles, writeBundle } from "../../plugins/nodeattestor-x509pop/src/testing/pki.js";
import { firstX509SvidResponse, startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

const pki = mkdtempSync(join(tmpdir(), "agent-x509pop-"));
const root = rootCa();
const intermediate = intermediateCa(root);
const files = writeAgentFiles(pki, "node", { leaf: leafCert(intermediate), chain: [intermediate] });
const caBundle = writeBundle(pki, "ca", [root]);

let server: TestServer;
let agent: RunningAgent;
let agentDir = "";
let socketPath = "";

beforeAll(async () => {
  server = await startTestServer({ agentTtl: "8s", extraPlugins: `    NodeAttestor "x509pop" { plugin_data { ca_bundle_path = "${caBundle}" } }` });
  ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, {
    nodeAttestor: `NodeAttestor "x509pop" { plugin_data { private_key_path = "${files.privateKeyPath}", certificate_path = "${files.certificatePath}" } }`,
    extraAgentConfig: 'experimental { sync_interval = "1s" }',
  }));
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(pki, { recursive: true, force: true });
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

const idOf = (der: Buffer) => new X509Certificate(der).subjectAltName;

describe("agent with the x509pop NodeAttestor", () => {
  it("attests through the plugins' challenge/response and is re-attestable", () => {
    expect(idOf(agent.svid.current().chain[0]!)).toMatch(/^URI:spiffe:\/\/example\.org\/spire\/agent\/x509pop\/[0-9a-f]{40}$/);
    expect(agent.svid.current().reattestable).toBe(true);
  });

  it("serves a workload entry parented by its agent ID, and rotates its SVID by attesting again", async () => {
    const agentId = idOf(agent.svid.current().chain[0]!)!.slice(4);
    await server.createEntry({ spiffeId: "spiffe://example.org/x509pop-workload", parentId: agentId, selectors: [`unix:uid:${process.getuid!()}`] });
    // The agent learns of the entry at its next sync (1 s here); until then the workload has no identity.
    const synced = Date.now() + 10_000;
    while (agent.cache.svidCount === 0 && Date.now() < synced) await new Promise((r) => setTimeout(r, 100));
    const first = await firstX509SvidResponse(socketPath);
    expect(first.svids[0]!.spiffeId).toBe("spiffe://example.org/x509pop-workload");
    const serials = new Set([new X509Certificate(agent.svid.current().chain[0]!).serialNumber]);
    const deadline = Date.now() + 15_000;
    while (serials.size < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      serials.add(new X509Certificate(agent.svid.current().chain[0]!).serialNumber);
    }
    expect(serials.size).toBe(2);
    expect(idOf(agent.svid.current().chain[0]!)).toBe(`URI:${agentId}`);
    const syncedAfter = Date.now();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(agent.manager.lastSyncSuccess).toBeGreaterThan(syncedAfter - 200);
  }, 40_000);
});
