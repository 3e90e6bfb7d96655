/**
 * signet-agent against a stock spire-server (SPIRE v1.15.3, built from the Go module proxy in
 * test/e2e/go/stock-spire; SQLite DataStore, disk KeyManager, join_token NodeAttestor). The join
 * token, the entries and the bundle come from spire-server's own CLI. signet-agent attests (and
 * spire-server lists it), syncs, serves its workload an X509-SVID chained to spire-server's bundle
 * and a JWT-SVID that verifies with spire-server's JWT keys, renews its own short-lived SVID with
 * RenewAgent (spire-server records the new serial), drops an SVID whose entry was deleted, and
 * stops when spire-server evicts it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createPublicKey, type JsonWebKey, verify, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, credentials, Metadata } from "@grpc/grpc-js";
import { loadAgentConfig, type RunningAgent, startAgent } from "@signet/agent";
import { createLogger } from "@signet/host-common";
import { createClient } from "@signet/proto";
import { SpiffeWorkloadAPIService, type X509SVIDResponse } from "@signet/proto/workload/workload";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstX509SvidResponse } from "../fakes/signet-pair.js";
import { goBuildDir, haveGo, requireGoInCI } from "./go-toolchain.js";
import { buildStockSpire, stockSpireColdBuildMs } from "./stock-spire.js";

requireGoInCI("(to build the stock spire-server from test/e2e/go/stock-spire)");

const uid = process.getuid!();
const workloadId = "spiffe://example.org/stock-server/workload";
const extraId = "spiffe://example.org/stock-server/extra";
/** Short enough that signet-agent renews its SVID (at half-life) during the test. */
const agentTtlSeconds = 12;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const certsOf = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
const decimalSerial = (cert: X509Certificate): string => BigInt(`0x${cert.serialNumber}`).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!haveGo)("signet-agent against a stock spire-server v1.15.3", () => {
  const spireServer = join(goBuildDir, "spire-server");
  const dir = mkdtempSync(join(tmpdir(), "stock-server-"));
  const serverSocket = join(dir, "server", "api.sock");
  const bundlePath = join(dir, "bundle.pem");
  let server: ChildProcess | undefined;
  let serverLog = "";
  let agent: RunningAgent | undefined;
  let agentLog = "";
  let agentId = "";
  let workloadSocket = "";
  let channel: Channel | undefined;
  const entryIds = new Map<string, string>();

  const cli = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(spireServer, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  /** A spire-server CLI command on the server's socket that must succeed. */
  async function spire(args: string[]): Promise<string> {
    const run = await cli([...args, "-socketPath", serverSocket]);
    if (run.code !== 0) throw new Error(`spire-server ${args.join(" ")} exited ${run.code}: ${run.stderr}${run.stdout}\n--- server log ---\n${serverLog.slice(-4000)}`);
    return run.stdout;
  }

  const logs = () => `--- spire-server log ---\n${serverLog.slice(-3000)}\n--- signet-agent log ---\n${agentLog.slice(-3000)}`;

  async function createEntry(spiffeId: string): Promise<void> {
    const out = JSON.parse(
      await spire(["entry", "create", "-parentID", agentId, "-spiffeID", spiffeId, "-selector", `unix:uid:${uid}`, "-output", "json"]),
    ) as { results: { status: { code: number; message: string }; entry: { id: string } }[] };
    expect(out.results[0]!.status.code, out.results[0]!.status.message).toBe(0);
    entryIds.set(spiffeId, out.results[0]!.entry.id);
  }

  beforeAll(async () => {
    await buildStockSpire();
    const port = await freePort();
    mkdirSync(join(dir, "server"));
    writeFileSync(
      join(dir, "server.conf"),
      `server {
    bind_address = "127.0.0.1"
    bind_port = "${port}"
    socket_path = "${serverSocket}"
    trust_domain = "example.org"
    data_dir = "${join(dir, "server")}"
    log_level = "DEBUG"
    agent_ttl = "${agentTtlSeconds}s"
    default_x509_svid_ttl = "1h"
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "${join(dir, "server", "datastore.sqlite3")}"
        }
    }
    KeyManager "disk" {
        plugin_data {
            keys_path = "${join(dir, "server", "keys.json")}"
        }
    }
    NodeAttestor "join_token" {
        plugin_data {}
    }
}
`,
    );
    server = spawn(spireServer, ["run", "-config", join(dir, "server.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (d: Buffer) => (serverLog += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (serverLog += d.toString()));
    for (const until = Date.now() + 60_000; ; ) {
      const health = await cli(["healthcheck", "-socketPath", serverSocket]);
      if (health.code === 0) break;
      if (server.exitCode !== null || Date.now() > until) throw new Error(`spire-server did not become healthy:\n${health.stderr}\n${serverLog.slice(-4000)}`);
      await sleep(300);
    }

    const token = /^Token: (\S+)$/m.exec(await spire(["token", "generate", "-ttl", "600"]))?.[1];
    if (!token) throw new Error("spire-server token generate printed no token");
    agentId = `spiffe://example.org/spire/agent/join_token/${token}`;
    await createEntry(workloadId);
    await createEntry(extraId);
    writeFileSync(bundlePath, await spire(["bundle", "show"]));

    mkdirSync(join(dir, "agent"));
    writeFileSync(
      join(dir, "agent.conf"),
      `agent {
    trust_domain = "example.org"
    server_address = "127.0.0.1"
    server_port = ${port}
    socket_path = "${join(dir, "agent", "public", "api.sock")}"
    data_dir = "${join(dir, "agent", "data")}"
    trust_bundle_path = "${bundlePath}"
    join_token = "${token}"
    experimental {
        sync_interval = "1s"
    }
}
plugins {
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
    WorkloadAttestor "unix" {}
}
`,
    );
    const config = await loadAgentConfig(join(dir, "agent.conf"));
    workloadSocket = config.socketPath;
    agent = await startAgent(config, { log: createLogger({ level: "info", write: (line) => void (agentLog = (agentLog + line).slice(-20_000)) }) });
    channel = new Channel(`unix://${workloadSocket}`, credentials.createInsecure(), {});
  }, stockSpireColdBuildMs + 120_000);

  afterAll(async () => {
    channel?.close();
    await agent?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once("exit", r));
      server.kill("SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      server.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The first FetchX509SVID message once its SPIFFE IDs satisfy `ok`, or the last one seen after `ms`. */
  async function servedWhen(ok: (ids: string[]) => boolean, ms: number): Promise<X509SVIDResponse> {
    for (const until = Date.now() + ms; ; await sleep(500)) {
      const msg = await firstX509SvidResponse(workloadSocket).catch((e: unknown) => {
        if (Date.now() > until) throw e;
        return undefined;
      });
      if (msg && (ok(msg.svids.map((s) => s.spiffeId)) || Date.now() > until)) return msg;
    }
  }

  const header = () => {
    const m = new Metadata();
    m.set("workload.spiffe.io", "true");
    return m;
  };

  it("attests with the join token: its SVID is spire-server's, and spire-server lists the agent", async () => {
    const leaf = new X509Certificate(agent!.svid.current().chain[0]!);
    expect(leaf.subjectAltName).toBe(`URI:${agentId}`);
    const roots = certsOf(await spire(["bundle", "show"]));
    expect(roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))).toBe(true);
    const listed = JSON.parse(await spire(["agent", "list", "-output", "json"])) as {
      agents: { id: { trust_domain: string; path: string }; attestation_type: string; banned: boolean }[];
    };
    const me = listed.agents.find((a) => `spiffe://${a.id.trust_domain}${a.id.path}` === agentId);
    expect(me, JSON.stringify(listed)).toBeDefined();
    expect(me!.attestation_type).toBe("join_token");
    expect(me!.banned).toBe(false);
  });

  it("syncs both entries and serves its workload X509-SVIDs chained to spire-server's bundle", async () => {
    // spire-server's entry cache picks new entries up on its own schedule, so the first syncs may
    // bring none yet (then the Workload API answers PermissionDenied "no identity issued").
    const msg = await servedWhen((ids) => ids.length === 2, 30_000);
    expect(msg.svids.map((s) => s.spiffeId).sort(), logs()).toEqual([extraId, workloadId]);
    const roots = certsOf(await spire(["bundle", "show"]));
    for (const svid of msg.svids) {
      const leaf = new X509Certificate(svid.x509Svid);
      expect(leaf.subjectAltName).toBe(`URI:${svid.spiffeId}`);
      expect(roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))).toBe(true);
      // The bundle the workload gets is spire-server's X.509 bundle, as DER certificates back to back.
      expect(Buffer.from(svid.bundle).equals(Buffer.concat(roots.map((r) => r.raw)))).toBe(true);
    }
  }, 40_000);

  it("serves a JWT-SVID that spire-server signed, verified with spire-server's JWT keys", async () => {
    const api = createClient(SpiffeWorkloadAPIService, channel!);
    const res = await api.fetchJwtsvid({ audience: ["stock-server-test"], spiffeId: workloadId }, { metadata: header() });
    expect(res.svids.map((s) => s.spiffeId)).toEqual([workloadId]);
    const [head, payload, signature] = res.svids[0]!.svid.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string; aud: string[] };
    expect(claims.sub).toBe(workloadId);
    expect(claims.aud).toEqual(["stock-server-test"]);
    const { kid, alg } = JSON.parse(Buffer.from(head, "base64url").toString()) as { kid: string; alg: string };
    expect(alg).toBe("ES256");
    // spire-server's own view of its bundle, as a SPIFFE bundle (JWKS with x509-svid and jwt-svid keys).
    const serverJwks = JSON.parse(await spire(["bundle", "show", "-format", "spiffe"])) as { keys: (JsonWebKey & { kid?: string; use?: string })[] };
    const jwk = serverJwks.keys.find((k) => k.use === "jwt-svid" && k.kid === kid);
    expect(jwk, `no jwt-svid key ${kid} in spire-server's bundle`).toBeDefined();
    const signed = Buffer.from(`${head}.${payload}`);
    expect(verify("sha256", signed, { key: createPublicKey({ key: jwk!, format: "jwk" }), dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"))).toBe(true);
    // The JWT bundle the agent hands workloads holds the same key.
    const bundles = await createClient(SpiffeWorkloadAPIService, channel!).fetchJwtBundles({}, { metadata: header() })[Symbol.asyncIterator]().next();
    const served = JSON.parse(Buffer.from(bundles.value!.bundles["spiffe://example.org"]!).toString()) as { keys: (JsonWebKey & { kid?: string })[] };
    const servedKey = served.keys.find((k) => k.kid === kid);
    expect(servedKey && { x: servedKey.x, y: servedKey.y }).toEqual({ x: jwk!.x, y: jwk!.y });
    // And the agent validates it for workloads.
    const ok = await api.validateJwtsvid({ audience: "stock-server-test", svid: res.svids[0]!.svid }, { metadata: header() });
    expect(ok.spiffeId).toBe(workloadId);
  }, 30_000);

  it("renews its short-lived SVID with spire-server, keeps syncing, and spire-server records the new serial", async () => {
    const first = new X509Certificate(agent!.svid.current().chain[0]!);
    let renewed = first;
    for (const until = Date.now() + agentTtlSeconds * 2_000; renewed.serialNumber === first.serialNumber && Date.now() < until; ) {
      await sleep(200);
      renewed = new X509Certificate(agent!.svid.current().chain[0]!);
    }
    expect(renewed.serialNumber, logs()).not.toBe(first.serialNumber);
    expect(renewed.subjectAltName).toBe(`URI:${agentId}`);
    expect(Date.parse(renewed.validTo)).toBeGreaterThan(Date.parse(first.validTo));
    // A sync with the renewed SVID succeeds, and spire-server now knows the agent by its new serial.
    const renewedAt = Date.now();
    for (const until = renewedAt + 10_000; agent!.manager.lastSyncSuccess <= renewedAt && Date.now() < until; ) await sleep(200);
    expect(agent!.manager.lastSyncSuccess, logs()).toBeGreaterThan(renewedAt);
    const current = new X509Certificate(agent!.svid.current().chain[0]!);
    const shown = JSON.parse(await spire(["agent", "show", "-spiffeID", agentId, "-output", "json"])) as { x509svid_serial_number: string };
    expect([decimalSerial(renewed), decimalSerial(current)]).toContain(shown.x509svid_serial_number);
    // Workloads are still served.
    expect((await firstX509SvidResponse(workloadSocket)).svids.length).toBeGreaterThan(0);
  }, agentTtlSeconds * 2_000 + 20_000);

  it("drops a workload's SVID once its entry is deleted with spire-server's CLI", async () => {
    expect((await servedWhen((ids) => ids.includes(extraId), 30_000)).svids.map((s) => s.spiffeId)).toContain(extraId);
    await spire(["entry", "delete", "-entryID", entryIds.get(extraId)!]);
    const msg = await servedWhen((ids) => ids.length === 1, 30_000);
    expect(msg.svids.map((s) => s.spiffeId), logs()).toEqual([workloadId]);
    const synced = [...agent!.cache.entryMap.values()].map((e) => `spiffe://${e.spiffeId!.trustDomain}${e.spiffeId!.path}`);
    expect(synced).toEqual([workloadId]);
  }, 40_000);

  it("drops its SVID and stops when spire-server's CLI evicts it (a join token cannot re-attest)", async () => {
    await spire(["agent", "evict", "-spiffeID", agentId]);
    const outcome = await Promise.race([agent!.stopped, sleep(20_000).then(() => undefined)]);
    expect(outcome?.error, logs()).toMatch(/AGENT_NOT_ATTESTED|AGENT_NOT_ACTIVE/);
    const stored = JSON.parse(readFileSync(join(agent!.config.dataDir, "agent-data.json"), "utf8")) as { svid?: unknown };
    expect(stored.svid).toBeUndefined();
    const listed = JSON.parse(await spire(["agent", "list", "-output", "json"])) as { agents?: unknown[] };
    expect(listed.agents ?? []).toEqual([]);
  }, 30_000);
});
