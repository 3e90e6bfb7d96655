// signet-server end to end: the daemon's composition (SQLite DataStore and
// disk KeyManager as real plugin processes), the CLI over the local socket,
// an agent attesting with a join token over TLS (no client certificate),
// then calling agent-only RPCs with its SVID over mTLS, the PermissionDenied
// details a stock agent acts on, and a restart that keeps the CA.
import { execFile } from "node:child_process";
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Channel, Channel as GrpcChannel, type ChannelCredentials, credentials } from "@grpc/grpc-js";
import { createLogger, permissionDeniedReason } from "@signet/host-common";
import { createClient, Code, RpcError } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import { PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";
import { loadServerConfig, type RunningServer, startServer } from "@signet/server";
import { createCsr } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestOverStream, attestParams } from "../fakes/attest-client.js";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../../host/server/dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "signet-server-e2e-"));
const socketPath = join(dir, "api.sock");
const configPath = join(dir, "server.conf");
const logLines: string[] = [];

writeFileSync(
  configPath,
  `server {
    bind_address = "127.0.0.1"
    bind_port = "0"
    socket_path = "${socketPath}"
    trust_domain = "example.org"
    data_dir = "${dir}"
    default_x509_svid_ttl = "10m"
}
plugins {
    DataStore "sql" {
        plugin_data { database_type = "sqlite3", connection_string = "${join(dir, "datastore.sqlite3")}" }
    }
    KeyManager "disk" {
        plugin_data { keys_path = "${join(dir, "keys.json")}" }
    }
    NodeAttestor "join_token" {}
}
`,
);

async function start(): Promise<RunningServer> {
  const config = await loadServerConfig(configPath);
  return startServer(config, { log: createLogger({ level: "debug", write: (l) => void logLines.push(l) }) });
}

async function signetServer(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args, ...(args[0] === "run" ? [] : ["-socketPath", socketPath])]);
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

/** TLS to the server checked as a SPIRE agent checks it: chain to the bundle, URI SAN exactly spiffe://<td>/spire/server. */
function tlsCredentials(rootsPem: string, client?: { key: string; chain: string }): ChannelCredentials {
  return credentials.createSsl(
    Buffer.from(rootsPem),
    client ? Buffer.from(client.key) : null,
    client ? Buffer.from(client.chain) : null,
    {
      checkServerIdentity: (_host, cert) => {
        const uri = new X509Certificate(cert.raw).subjectAltName;
        return uri === "URI:spiffe://example.org/spire/server" ? undefined : new Error(`unexpected server ID ${uri}`);
      },
    },
  );
}

function pem(der: Buffer): string {
  return new X509Certificate(der).toString();
}

let server: RunningServer;
const channels: Channel[] = [];
function channel(target: string, creds: ChannelCredentials): Channel {
  const c = new GrpcChannel(target, creds, {});
  channels.push(c);
  return c;
}

beforeAll(async () => {
  server = await start();
}, 120_000);

afterAll(async () => {
  for (const c of channels) c.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("signet-server", () => {
  let bundleRoots: Buffer[] = [];
  let token = "";
  let agentKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  let agentChain: Buffer[] = [];
  let workloadEntryId = "";

  it("answers healthcheck and hands out a join token and entries through the CLI", async () => {
    expect((await signetServer("healthcheck")).stdout).toContain("Server is healthy.");
    const generated = await signetServer("token", "generate", "-spiffeID", "spiffe://example.org/node1");
    expect(generated.code).toBe(0);
    token = /Token: (\S+)/.exec(generated.stdout)![1]!;
    const created = await signetServer(
      "entry", "create", "-parentID", "spiffe://example.org/node1", "-spiffeID", "spiffe://example.org/web",
      "-selector", "unix:uid:1000", "-dns", "web.example.org", "-output", "json",
    );
    expect(created.code, created.stderr).toBe(0);
    workloadEntryId = JSON.parse(created.stdout).results[0].entry.id;
    const bad = await signetServer("entry", "create", "-parentID", "spiffe://example.org/node1", "-spiffeID", "spiffe://example.org/spire/x", "-selector", "unix:uid:1");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr + bad.stdout).toContain("reserved");
  });

  it("attests an agent with the join token over TLS without a client certificate", async () => {
    const local = createClient(BundleService, channel(`unix://${socketPath}`, credentials.createInsecure()));
    const bundle = await local.getBundle({ outputMask: undefined });
    bundleRoots = bundle.x509Authorities.map((a) => a.asn1);
    expect(bundleRoots.length).toBeGreaterThan(0);
    expect(bundle.jwtAuthorities.length).toBeGreaterThan(0);

    const tls = channel(`127.0.0.1:${server.tcpPort}`, tlsCredentials(bundleRoots.map(pem).join("")));
    const agent = createClient(AgentService, tls);
    const csr = createCsr({ privateKey: agentKey });
    const { result, challenges } = await attestOverStream(agent, attestParams("join_token", token, csr));
    expect(challenges).toBe(0);
    expect(result.reattestable).toBe(false);
    agentChain = result.svid!.certChain;
    const leaf = new X509Certificate(agentChain[0]!);
    expect(leaf.subjectAltName).toBe(`URI:spiffe://example.org/spire/agent/join_token/${token}`);
    expect(leaf.verify(new X509Certificate(bundleRoots[0]!).publicKey)).toBe(true);

    // A join token is single use.
    const again = await attestOverStream(agent, attestParams("join_token", token, csr)).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RpcError);
    expect((again as RpcError).code).toBe(Code.INVALID_ARGUMENT);
  });

  it("serves agent-only RPCs to the agent over mTLS and mints workload SVIDs from its entries", async () => {
    const mtls = channel(
      `127.0.0.1:${server.tcpPort}`,
      tlsCredentials(bundleRoots.map(pem).join(""), {
        key: agentKey.export({ type: "pkcs8", format: "pem" }) as string,
        chain: agentChain.map(pem).join(""),
      }),
    );
    const entries = createClient(EntryService, mtls);
    const authorized = await entries.getAuthorizedEntries({ outputMask: undefined });
    expect(authorized.entries.map((e) => e.id)).toContain(workloadEntryId);

    const svid = createClient(SVIDService, mtls);
    const workloadKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const res = await svid.batchNewX509Svid({
      params: [
        { entryId: workloadEntryId, csr: createCsr({ privateKey: workloadKey, uriSans: ["spiffe://example.org/web"] }) },
        { entryId: "not-mine", csr: createCsr({ privateKey: workloadKey }) },
      ],
    });
    expect(res.results[0]!.status!.code).toBe(Code.OK);
    const leaf = new X509Certificate(res.results[0]!.svid!.certChain[0]!);
    expect(leaf.subjectAltName).toContain("URI:spiffe://example.org/web");
    expect(leaf.subjectAltName).toContain("DNS:web.example.org");
    expect(leaf.verify(new X509Certificate(bundleRoots[0]!).publicKey)).toBe(true);
    expect(res.results[1]!.status!.code).toBe(Code.NOT_FOUND);

    const jwt = await svid.newJwtsvid({ entryId: workloadEntryId, audience: ["db"] });
    expect(jwt.svid!.token.split(".")).toHaveLength(3);
  });

  it("refuses agent RPCs from a TLS caller without a certificate and from the local socket", async () => {
    const tls = channel(`127.0.0.1:${server.tcpPort}`, tlsCredentials(bundleRoots.map(pem).join("")));
    const e1 = await createClient(EntryService, tls).getAuthorizedEntries({ outputMask: undefined }).catch((e: unknown) => e);
    expect((e1 as RpcError).code).toBe(Code.PERMISSION_DENIED);
    const local = channel(`unix://${socketPath}`, credentials.createInsecure());
    const e2 = await createClient(EntryService, local).getAuthorizedEntries({ outputMask: undefined }).catch((e: unknown) => e);
    expect((e2 as RpcError).code).toBe(Code.PERMISSION_DENIED);
  });

  it("tells an evicted agent it is not attested, in the details a stock agent reads", async () => {
    const evicted = await signetServer("agent", "evict", "-spiffeID", `spiffe://example.org/spire/agent/join_token/${token}`);
    expect(evicted.code, evicted.stderr).toBe(0);
    const mtls = channel(
      `127.0.0.1:${server.tcpPort}`,
      tlsCredentials(bundleRoots.map(pem).join(""), {
        key: agentKey.export({ type: "pkcs8", format: "pem" }) as string,
        chain: agentChain.map(pem).join(""),
      }),
    );
    const err = await createClient(EntryService, mtls).getAuthorizedEntries({ outputMask: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.PERMISSION_DENIED);
    expect(permissionDeniedReason((err as RpcError).metadata)).toBe(PermissionDeniedDetails_Reason.AGENT_NOT_ATTESTED);
  });

  it("keeps its CA across a restart (journal in the DataStore, keys in keymanager-disk)", async () => {
    await server.stop();
    server = await start();
    const local = createClient(BundleService, channel(`unix://${socketPath}`, credentials.createInsecure()));
    const bundle = await local.getBundle({ outputMask: undefined });
    expect(bundle.x509Authorities.map((a) => a.asn1.toString("hex"))).toEqual(bundleRoots.map((r) => r.toString("hex")));
    expect(logLines.some((l) => l.includes("X509 CA activated"))).toBe(true);
  }, 120_000);
});
