// The server's own X509-SVID (its TLS certificate) is re-signed at half-life:
// with an 8 s default_x509_svid_ttl an agent keeps syncing well past the
// first server SVID's expiry and sees a different server certificate.
import { X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { connect } from "node:tls";
import type { RunningAgent } from "@signet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

let server: TestServer;
let agent: RunningAgent;
let agentDir = "";

beforeAll(async () => {
  server = await startTestServer({ x509SvidTtl: "8s" });
  ({ agent, dir: agentDir } = await startTestAgent(server, { token: await server.joinToken(), extraAgentConfig: 'experimental { sync_interval = "1s" }' }));
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

function serverCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["h2"], servername: "example.org" }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.once("error", reject);
  });
}

describe("server SVID rotation", () => {
  it("re-signs its TLS certificate before it expires, so agents keep syncing", async () => {
    const first = await serverCertificate(server.server.tcpPort);
    const firstExpiry = Date.parse(first.validTo);
    await new Promise((r) => setTimeout(r, Math.max(0, firstExpiry - Date.now()) + 2_000));
    const later = await serverCertificate(server.server.tcpPort);
    expect(later.serialNumber).not.toBe(first.serialNumber);
    expect(Date.parse(later.validTo)).toBeGreaterThan(Date.now());
    expect(agent.manager.lastSyncSuccess).toBeGreaterThan(firstExpiry);
  }, 40_000);
});
