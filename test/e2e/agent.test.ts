// signet-agent end to end against a real signet-server: join-token
// attestation over TLS, sync, X509-SVIDs and JWT-SVIDs served on the
// Workload API to callers identified by the kernel (unix attestor), the
// security header, and PermissionDenied for a process with no entry.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Channel, credentials, Metadata } from "@grpc/grpc-js";
import { Code, createClient, RpcError } from "@signet/proto";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import { DebugService } from "@signet/proto/spire/api/agent/debug/v1/debug";
import { LoggerService } from "@signet/proto/spire/api/agent/logger/v1/logger";
import { LogLevel } from "@signet/proto/spire/api/types/logger";
import { join } from "node:path";
import type { RunningAgent } from "@signet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

const run = promisify(execFile);
const agentCli = fileURLToPath(new URL("../../host/agent/dist/cli/main.js", import.meta.url));
const uid = process.getuid!();

let server: TestServer;
let agent: RunningAgent;
let socketPath = "";
let agentDir = "";
let channel: Channel;
const header = () => {
  const m = new Metadata();
  m.set("workload.spiffe.io", "true");
  return m;
};

beforeAll(async () => {
  server = await startTestServer();
  const token = await server.joinToken();
  const agentId = `spiffe://example.org/spire/agent/join_token/${token}`;
  await server.createEntry({ spiffeId: "spiffe://example.org/me", parentId: agentId, selectors: [`unix:uid:${uid}`], hint: "me" });
  await server.createEntry({ spiffeId: "spiffe://example.org/nobody", parentId: agentId, selectors: ["unix:uid:65534"] });
  ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, { token, adminSocket: true }));
  channel = new Channel(`unix://${socketPath}`, credentials.createInsecure(), {});
}, 120_000);

afterAll(async () => {
  channel?.close();
  await agent?.stop();
  await server?.stop();
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

describe("signet-agent", () => {
  it("attested with the join token and synced both entries", () => {
    expect(agent.cache.entryMap.size).toBe(2);
    expect(agent.cache.svidCount).toBe(2);
    expect(new X509Certificate(agent.svid.current().chain[0]!).subjectAltName).toMatch(/^URI:spiffe:\/\/example\.org\/spire\/agent\/join_token\//);
  });

  it("serves this process its X509-SVID, chained to the bundle", async () => {
    const api = createClient(SpiffeWorkloadAPIService, channel);
    const stream = api.fetchX509Svid({}, { metadata: header() });
    const first = (await stream[Symbol.asyncIterator]().next()).value!;
    expect(first.svids).toHaveLength(1);
    const svid = first.svids[0]!;
    expect(svid.spiffeId).toBe("spiffe://example.org/me");
    expect(svid.hint).toBe("me");
    const leaf = new X509Certificate(svid.x509Svid);
    expect(leaf.subjectAltName).toBe("URI:spiffe://example.org/me");
    const root = new X509Certificate(svid.bundle);
    expect(leaf.verify(root.publicKey)).toBe(true);
  });

  it("mints a JWT-SVID, reuses it from the cache, and validates it", async () => {
    const api = createClient(SpiffeWorkloadAPIService, channel);
    const a = await api.fetchJwtsvid({ audience: ["db"], spiffeId: "" }, { metadata: header() });
    const b = await api.fetchJwtsvid({ audience: ["db"], spiffeId: "" }, { metadata: header() });
    expect(a.svids[0]!.spiffeId).toBe("spiffe://example.org/me");
    expect(b.svids[0]!.svid).toBe(a.svids[0]!.svid);
    const ok = await api.validateJwtsvid({ audience: "db", svid: a.svids[0]!.svid }, { metadata: header() });
    expect(ok.spiffeId).toBe("spiffe://example.org/me");
    expect(ok.claims?.aud).toEqual(["db"]);
    const wrong = await api.validateJwtsvid({ audience: "other", svid: a.svids[0]!.svid }, { metadata: header() }).catch((e: unknown) => e);
    expect((wrong as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    const none = await api.fetchJwtsvid({ audience: [], spiffeId: "" }, { metadata: header() }).catch((e: unknown) => e);
    expect((none as RpcError).message).toContain("audience must be specified");
  });

  it("refuses a call without the security header", async () => {
    const api = createClient(SpiffeWorkloadAPIService, channel);
    const err = await api.fetchJwtsvid({ audience: ["db"], spiffeId: "" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as RpcError).message).toBe("security header missing from request");
  });

  it("gives a process under another uid its own identity, and one with no entry PermissionDenied", async () => {
    chmodSync(agentDir, 0o755);
    const asNobody = await run(process.execPath, [agentCli, "api", "fetch", "x509", "-socketPath", socketPath], { uid: 65534, gid: 65534 }).catch((e: unknown) => e as { stdout: string; stderr: string; code: number });
    expect(asNobody.stdout).toContain("spiffe://example.org/nobody");
    const asDaemon = await run(process.execPath, [agentCli, "api", "fetch", "x509", "-socketPath", socketPath], { uid: 1, gid: 1 }).catch((e: unknown) => e as { stdout: string; stderr: string; code: number });
    expect((asDaemon as { code?: number }).code).toBe(1);
    expect(asDaemon.stderr + asDaemon.stdout).toContain("no identity issued");
  });

  it("serves Debug and Logger on the admin socket", async () => {
    const admin = new Channel(`unix://${join(agentDir, "admin", "admin.sock")}`, credentials.createInsecure(), {});
    try {
      const info = await createClient(DebugService, admin).getInfo({});
      expect(info.svidChain[0]?.id?.path).toMatch(/^\/spire\/agent\/join_token\//);
      expect(info.cachedX509SvidsCount).toBe(2);
      expect(Number(info.lastSyncSuccess)).toBeGreaterThan(Date.now() / 1000 - 60);
      const logger = createClient(LoggerService, admin);
      const set = await logger.setLogLevel({ newLevel: LogLevel.DEBUG });
      expect(set.currentLevel).toBe(LogLevel.DEBUG);
      const reset = await logger.resetLogLevel({});
      expect(reset.currentLevel).toBe(reset.launchLevel);
    } finally {
      admin.close();
    }
  });
});
