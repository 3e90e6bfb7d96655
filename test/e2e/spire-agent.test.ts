/**
 * A stock spire-agent (SPIRE v1.15.3, built from the Go module proxy in test/e2e/go/stock-spire)
 * against signet-server: it attests with a join token, syncs its authorized entries, gets its
 * workload's X509-SVID minted (BatchNewX509SVID) and a JWT-SVID (NewJWTSVID), and serves them on
 * its own Workload API, where spire-agent's own CLI fetches them.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createPublicKey, type JsonWebKey, verify, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fakes/signet-pair.js";
import { goBuildDir, haveGo, requireGoInCI } from "./go-toolchain.js";
import { buildStockSpire, stockSpireColdBuildMs } from "./stock-spire.js";

requireGoInCI("(to build the stock spire-agent from test/e2e/go/stock-spire)");

const uid = process.getuid!();
const workloadId = "spiffe://example.org/stock-agent-workload";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe.skipIf(!haveGo)("a stock spire-agent v1.15.3 against signet-server", () => {
  const spireAgent = join(goBuildDir, "spire-agent");
  const dir = mkdtempSync(join(tmpdir(), "stock-agent-"));
  const socketPath = join(dir, "agent.sock");
  let server: TestServer;
  let agent: ChildProcess | undefined;
  let agentLog = "";
  let agentId = "";

  const cli = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(spireAgent, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  /** Retries `api fetch …` until it answers (the agent syncs every 5 s) or `ms` pass. */
  async function fetchUntilServed(args: string[], ms: number): Promise<Run> {
    const until = Date.now() + ms;
    for (;;) {
      const run = await cli(args);
      if (run.code === 0 || Date.now() > until) return run;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  beforeAll(async () => {
    await buildStockSpire();
    server = await startTestServer();
    const token = await server.joinToken();
    agentId = `spiffe://example.org/spire/agent/join_token/${token}`;
    writeFileSync(join(dir, "bundle.pem"), await server.bundlePem());
    writeFileSync(
      join(dir, "agent.conf"),
      `agent {
    data_dir = "${join(dir, "data")}"
    log_level = "DEBUG"
    server_address = "127.0.0.1"
    server_port = "${server.server.tcpPort}"
    socket_path = "${socketPath}"
    trust_bundle_path = "${join(dir, "bundle.pem")}"
    trust_domain = "example.org"
    join_token = "${token}"
}

plugins {
    NodeAttestor "join_token" {
        plugin_data {}
    }
    KeyManager "memory" {
        plugin_data {}
    }
    WorkloadAttestor "unix" {
        plugin_data {}
    }
}
`,
    );
    await server.createEntry({ spiffeId: workloadId, parentId: agentId, selectors: [`unix:uid:${uid}`] });
    agent = spawn(spireAgent, ["run", "-config", join(dir, "agent.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    agent.stdout!.on("data", (d: Buffer) => (agentLog += d.toString()));
    agent.stderr!.on("data", (d: Buffer) => (agentLog += d.toString()));
    const until = Date.now() + 60_000;
    while (!existsSync(socketPath) && agent.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    if (!existsSync(socketPath)) throw new Error(`spire-agent did not open its Workload API socket:\n${agentLog.slice(-4000)}`);
  }, stockSpireColdBuildMs + 120_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once("exit", r));
      agent.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      agent.kill("SIGKILL");
    }
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("attests with a join token and logs its agent SVID from signet-server", () => {
    expect(agentLog).toContain("Node attestation was successful");
    expect(agentLog).toContain(agentId);
  });

  it("serves its workload an X509-SVID that signet-server minted, chained to signet-server's bundle", async () => {
    const run = await fetchUntilServed(["api", "fetch", "x509", "-socketPath", socketPath, "-output", "json"], 60_000);
    expect(run.code, `${run.stderr}\n--- agent log ---\n${agentLog.slice(-4000)}`).toBe(0);
    const out = JSON.parse(run.stdout) as { svids: { spiffe_id: string; x509_svid: string; bundle: string }[] };
    expect(out.svids.map((s) => s.spiffe_id)).toEqual([workloadId]);
    const leaf = new X509Certificate(Buffer.from(out.svids[0]!.x509_svid, "base64"));
    expect(leaf.subjectAltName).toBe(`URI:${workloadId}`);
    const roots = (await server.bundlePem()).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem));
    expect(roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))).toBe(true);
  }, 90_000);

  it("serves its workload a JWT-SVID that signet-server signed", async () => {
    const run = await fetchUntilServed(["api", "fetch", "jwt", "-audience", "stock-test", "-socketPath", socketPath, "-output", "json"], 30_000);
    expect(run.code, `${run.stderr}\n--- agent log ---\n${agentLog.slice(-4000)}`).toBe(0);
    // SPIRE's CLI prints the JWT-SVIDs, then the JWT bundles it was given (JWKS, base64, by trust domain ID).
    const [svids, bundles] = JSON.parse(run.stdout) as [{ svids: { spiffe_id: string; svid: string }[] }, { bundles: Record<string, string> }];
    expect(svids.svids.map((s) => s.spiffe_id)).toEqual([workloadId]);
    const [header, payload, signature] = svids.svids[0]!.svid.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string; aud: string[] };
    expect(claims.sub).toBe(workloadId);
    expect(claims.aud).toEqual(["stock-test"]);
    const { kid, alg } = JSON.parse(Buffer.from(header, "base64url").toString()) as { kid: string; alg: string };
    expect(alg).toBe("ES256");
    const jwks = JSON.parse(Buffer.from(bundles.bundles["spiffe://example.org"]!, "base64").toString()) as { keys: JsonWebKey[] };
    const jwk = jwks.keys.find((k) => (k as { kid?: string }).kid === kid);
    expect(jwk, `no key ${kid} in the JWT bundle the agent received`).toBeDefined();
    const signed = Buffer.from(`${header}.${payload}`);
    expect(verify("sha256", signed, { key: createPublicKey({ key: jwk!, format: "jwk" }), dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"))).toBe(true);
  }, 60_000);
});
