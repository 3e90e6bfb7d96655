// SPIFFE federation end to end. Two signet-servers (a.test, b.test) each
// serve their bundle on an https_spiffe bundle endpoint; a.test federates
// with b.test from its config file (bootstrapped with `bundle set`, as SPIRE
// asks), b.test with a.test through `signet-server federation create`. Each
// ends up storing the other's bundle as fetched from the endpoint, and a
// workload of an a.test agent whose entry federates with b.test receives
// b.test's bundle on the Workload API. Then https_web: a server process
// trusting a locally made CA through NODE_EXTRA_CA_CERTS fetches from an
// endpoint serving a certificate of that CA from files.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Channel, credentials } from "@grpc/grpc-js";
import type { RunningAgent } from "@signet/agent";
import { createLogger } from "@signet/host-common";
import { createClient } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { Entry } from "@signet/proto/spire/api/types/entry";
import { loadServerConfig, type RunningServer, startServer } from "@signet/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testAuthority, testSvid } from "../../host/server/src/federation/test-bundles.js";
import { firstX509SvidResponse, startTestAgent, type TestServer } from "../fakes/signet-pair.js";

const cli = fileURLToPath(new URL("../../host/server/dist/cli/main.js", import.meta.url));
const logLines: string[] = [];
const log = createLogger({ level: "info", write: (l) => void logLines.push(l) });

interface Federated {
  readonly name: string;
  readonly dir: string;
  readonly socketPath: string;
  readonly server: RunningServer;
  readonly bundles: ReturnType<typeof createClient<typeof BundleService>>;
  readonly entries: ReturnType<typeof createClient<typeof EntryService>>;
  readonly agents: ReturnType<typeof createClient<typeof AgentService>>;
  readonly channel: Channel;
}

function serverConf(name: string, dir: string, federation: string): string {
  return `server {
    bind_address = "127.0.0.1"
    bind_port = "0"
    socket_path = "${join(dir, "api.sock")}"
    trust_domain = "${name}"
    data_dir = "${dir}"
    federation {
${federation}
    }
}
plugins {
    DataStore "sql" { plugin_data { database_type = "sqlite3", connection_string = "${join(dir, "datastore.sqlite3")}" } }
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
}
`;
}

async function startFederated(name: string, federation: string): Promise<Federated> {
  const dir = mkdtempSync(join(tmpdir(), `signet-federation-${name}-`));
  const configPath = join(dir, "server.conf");
  writeFileSync(configPath, serverConf(name, dir, federation));
  const server = await startServer(await loadServerConfig(configPath), { log: log.with({ server: name }) });
  const socketPath = join(dir, "api.sock");
  const channel = new Channel(`unix://${socketPath}`, credentials.createInsecure(), {});
  return {
    name,
    dir,
    socketPath,
    server,
    bundles: createClient(BundleService, channel),
    entries: createClient(EntryService, channel),
    agents: createClient(AgentService, channel),
    channel,
  };
}

const spiffeEndpoint = `        bundle_endpoint {
            address = "127.0.0.1"
            refresh_hint = "1m"
            profile "https_spiffe" {}
        }`;

function signetServer(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

function pemOf(bundle: Bundle): string {
  return bundle.x509Authorities.map((a) => new X509Certificate(a.asn1).toString()).join("");
}

function derOf(bundle: Bundle): Buffer {
  return Buffer.concat(bundle.x509Authorities.map((a) => Buffer.from(a.asn1)));
}

/** Polls until `check` returns a value (not undefined), up to `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\n${logLines.slice(-30).join("\n")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The federated bundle `of` as `holder` stores it, once it came from the endpoint (JWT keys and the endpoint's refresh hint). */
function fetchedBundle(holder: Federated, of: string): Promise<Bundle> {
  return eventually(`${holder.name} to store ${of}'s fetched bundle`, async () => {
    const b = await holder.bundles.getFederatedBundle({ trustDomain: of, outputMask: undefined });
    return b.jwtAuthorities.length > 0 && b.refreshHint === 60n ? b : undefined;
  });
}

describe("federation between two signet-servers over https_spiffe bundle endpoints", () => {
  let a: Federated;
  let b: Federated;
  let agent: { agent: RunningAgent; socketPath: string; dir: string } | undefined;

  beforeAll(async () => {
    b = await startFederated("b.test", spiffeEndpoint);
    expect(b.server.bundleEndpointPort).toBeGreaterThan(0);
    a = await startFederated(
      "a.test",
      `${spiffeEndpoint}
        federates_with "b.test" {
            bundle_endpoint_url = "https://127.0.0.1:${b.server.bundleEndpointPort}"
            bundle_endpoint_profile "https_spiffe" {
                endpoint_spiffe_id = "spiffe://b.test/spire/server"
            }
        }`,
    );
  }, 60_000);

  afterAll(async () => {
    await agent?.agent.stop();
    for (const s of [a, b]) {
      if (!s) continue;
      s.channel.close();
      await s.server.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
    if (agent) rmSync(agent.dir, { recursive: true, force: true });
  });

  it("a.test (config) and b.test (federation create) each store the other's bundle from its endpoint", async () => {
    const ownA = await a.bundles.getBundle({ outputMask: undefined });
    const ownB = await b.bundles.getBundle({ outputMask: undefined });

    // a.test cannot authenticate b.test's endpoint until it holds b.test's bundle.
    const early = await signetServer(["federation", "refresh", "-id", "b.test", "-socketPath", a.socketPath]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("can't perform SPIFFE Authentication: local copy of bundle not found");

    const bPem = join(a.dir, "b.pem");
    writeFileSync(bPem, pemOf(ownB));
    const set = await signetServer(["bundle", "set", "-id", "spiffe://b.test", "-path", bPem, "-socketPath", a.socketPath]);
    expect(set.stderr).toBe("");
    const refreshed = await signetServer(["federation", "refresh", "-id", "b.test", "-socketPath", a.socketPath]);
    expect(refreshed.stderr).toBe("");
    expect(refreshed.code).toBe(0);
    const bAtA = await fetchedBundle(a, "b.test");
    expect(derOf(bAtA).equals(derOf(ownB))).toBe(true);
    expect(bAtA.jwtAuthorities.map((k) => k.keyId)).toEqual(ownB.jwtAuthorities.map((k) => k.keyId));

    // b.test learns of a.test through the TrustDomain API; the new relationship is polled without a refresh.
    const aPem = join(b.dir, "a.pem");
    writeFileSync(aPem, pemOf(ownA));
    const created = await signetServer([
      "federation",
      "create",
      "-trustDomain",
      "a.test",
      "-bundleEndpointURL",
      `https://127.0.0.1:${a.server.bundleEndpointPort}`,
      "-bundleEndpointProfile",
      "https_spiffe",
      "-endpointSpiffeID",
      "spiffe://a.test/spire/server",
      "-trustDomainBundlePath",
      aPem,
      "-trustDomainBundleFormat",
      "pem",
      "-socketPath",
      b.socketPath,
    ]);
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain("Trust domain              : a.test");
    const aAtB = await fetchedBundle(b, "a.test");
    expect(derOf(aAtB).equals(derOf(ownA))).toBe(true);

    // Relationships from the config file are not listed by the API (SPIRE: static relationships are not reflected).
    const listed = await signetServer(["federation", "list", "-socketPath", a.socketPath]);
    expect(listed.stdout).toContain("Found 0 federation relationships");
    const missing = await signetServer(["federation", "refresh", "-id", "c.test", "-socketPath", b.socketPath]);
    expect(missing.code).toBe(1);
    // The CLI words the API's NotFound "no relationship with trust domain" as SPIRE's does.
    expect(missing.stderr).toContain('there is no federation relationship with trust domain "c.test"');
  }, 60_000);

  it("a workload whose entry federates with b.test gets b.test's bundle with its X509-SVID", async () => {
    await fetchedBundle(a, "b.test");
    const token = (await a.agents.createJoinToken({ ttl: 600, token: "", agentId: undefined })).value;
    const created = await a.entries.batchCreateEntry({
      entries: [
        Entry.fromPartial({
          spiffeId: { trustDomain: "a.test", path: "/workload" },
          parentId: { trustDomain: "a.test", path: `/spire/agent/join_token/${token}` },
          selectors: [{ type: "unix", value: `uid:${process.getuid!()}` }],
          federatesWith: ["b.test"],
        }),
      ],
      outputMask: undefined,
    });
    expect(created.results[0]?.status?.message).toBe("OK");
    const testServer: TestServer = {
      dir: a.dir,
      server: a.server,
      trustDomain: "a.test",
      joinToken: async () => token,
      createEntry: async () => {
        throw new Error("not used");
      },
      bundlePem: async () => pemOf(await a.bundles.getBundle({ outputMask: undefined })),
      evictAgent: async () => {},
      banAgent: async () => {},
      stop: async () => {},
    };
    agent = await startTestAgent(testServer, { token, log: log.with({ agent: "a.test" }) });
    const ownB = await b.bundles.getBundle({ outputMask: undefined });
    const response = await eventually("the workload's federated bundle", async () => {
      const r = await firstX509SvidResponse(agent!.socketPath);
      return r.federatedBundles["spiffe://b.test"] ? r : undefined;
    });
    expect(response.svids[0]?.spiffeId).toBe("spiffe://a.test/workload");
    expect(Buffer.from(response.federatedBundles["spiffe://b.test"]!).equals(derOf(ownB))).toBe(true);
  }, 60_000);
});

describe("federation over an https_web bundle endpoint trusted through NODE_EXTRA_CA_CERTS", () => {
  const dir = mkdtempSync(join(tmpdir(), "signet-federation-web-"));
  const webCa = testAuthority("web-ca.test");
  let c: Federated;
  let child: ChildProcess | undefined;
  const childOutput: string[] = [];
  const dSocket = join(dir, "d", "api.sock");

  beforeAll(async () => {
    const cert = testSvid(webCa, "spiffe://c.test/bundle-endpoint", ["localhost"]);
    writeFileSync(join(dir, "web-ca.pem"), new X509Certificate(webCa.der).toString());
    writeFileSync(join(dir, "cert.pem"), new X509Certificate(cert.chain[0]!).toString());
    writeFileSync(join(dir, "key.pem"), cert.key.export({ type: "pkcs8", format: "pem" }) as string);
    c = await startFederated(
      "c.test",
      `        bundle_endpoint {
            address = "127.0.0.1"
            refresh_hint = "1m"
            profile "https_web" {
                serving_cert_file {
                    cert_file_path = "${join(dir, "cert.pem")}"
                    key_file_path = "${join(dir, "key.pem")}"
                    file_sync_interval = "1m"
                }
            }
        }`,
    );
    const dDir = join(dir, "d");
    mkdirSync(dDir);
    const conf = serverConf(
      "d.test",
      dDir,
      `        federates_with "c.test" {
            bundle_endpoint_url = "https://localhost:${c.server.bundleEndpointPort}/"
            bundle_endpoint_profile "https_web" {}
        }`,
    );
    writeFileSync(join(dDir, "server.conf"), conf);
    child = spawn(process.execPath, [cli, "run", "-config", join(dDir, "server.conf")], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "web-ca.pem") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d: Buffer) => childOutput.push(d.toString()));
    child.stderr?.on("data", (d: Buffer) => childOutput.push(d.toString()));
    await eventually("d.test to serve its API", async () => {
      if (!existsSync(dSocket)) return undefined;
      const r = await signetServer(["bundle", "show", "-socketPath", dSocket]);
      return r.code === 0 ? true : undefined;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${childOutput.join("")}`);
    });
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (c) {
      c.channel.close();
      await c.server.stop();
      rmSync(c.dir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("fetches c.test's bundle with Web PKI and the hostname check", async () => {
    const refreshed = await signetServer(["federation", "refresh", "-id", "c.test", "-socketPath", dSocket]);
    expect(refreshed.stderr).toBe("");
    const listed = await signetServer(["bundle", "list", "-id", "spiffe://c.test", "-format", "spiffe", "-socketPath", dSocket]);
    expect(listed.code).toBe(0);
    const doc = JSON.parse(listed.stdout) as { keys: { use: string; x5c?: string[] }[]; spiffe_refresh_hint: number };
    const ownC = await c.bundles.getBundle({ outputMask: undefined });
    expect(doc.spiffe_refresh_hint).toBe(60);
    expect(doc.keys.filter((k) => k.use === "x509-svid").map((k) => k.x5c?.[0])).toEqual(ownC.x509Authorities.map((x) => Buffer.from(x.asn1).toString("base64")));
    expect(doc.keys.some((k) => k.use === "jwt-svid")).toBe(true);
  }, 60_000);

  it("refuses the endpoint by IP (the certificate names localhost) and points at https_spiffe, its certificate holding a SPIFFE ID", async () => {
    const created = await signetServer([
      "federation",
      "create",
      "-trustDomain",
      "c2.test",
      "-bundleEndpointURL",
      `https://127.0.0.1:${c.server.bundleEndpointPort}`,
      "-bundleEndpointProfile",
      "https_web",
      "-socketPath",
      dSocket,
    ]);
    expect(created.code).toBe(0);
    const refreshed = await signetServer(["federation", "refresh", "-id", "c2.test", "-socketPath", dSocket]);
    expect(refreshed.code).toBe(1);
    expect(refreshed.stderr).toContain(
      'failed to authenticate bundle endpoint using web authentication but the server certificate contains SPIFFE ID "spiffe://c.test/bundle-endpoint": maybe use https_spiffe instead of https_web',
    );
  }, 60_000);

  it("a client without the CA in its store cannot authenticate the endpoint", async () => {
    // A server in this test process, whose Node was started without NODE_EXTRA_CA_CERTS.
    const e = await startFederated(
      "e.test",
      `        federates_with "c.test" {
            bundle_endpoint_url = "https://localhost:${c.server.bundleEndpointPort}"
            bundle_endpoint_profile "https_web" {}
        }`,
    );
    try {
      const refreshed = await signetServer(["federation", "refresh", "-id", "c.test", "-socketPath", e.socketPath]);
      expect(refreshed.code).toBe(1);
      expect(refreshed.stderr).toMatch(/failed to fetch bundle: Get "https:\/\/localhost:\d+": unable to verify the first certificate|self[- ]signed|unable to get local issuer/);
    } finally {
      e.channel.close();
      await e.server.stop();
      rmSync(e.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
