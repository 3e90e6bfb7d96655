/**
 * go-spiffe v2 against signet-agent: a Go workload written with go-spiffe's workloadapi fetches
 * its X509 context, X.509 bundles, JWT-SVIDs and JWT bundles from our agent and checks them with
 * go-spiffe's own verifiers (x509svid.Verify, jwtsvid.ParseAndValidate, ValidateJWTSVID); then
 * that Go workload and a Node workload using @signet/spiffe's X509Source and TLS helpers talk
 * mutual TLS both ways, each admitting the other by exact SPIFFE ID, and a wrong ID is refused
 * on either side. Built from test/e2e/go/workload-peer.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RunningAgent } from "@signet/agent";
import { authorizeId, X509Source } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, haveGo, requireGoInCI } from "./go-toolchain.js";
import { dialOnce, type EchoServer, serialHex, startEchoServer } from "./spiffe-tls-peers.js";

requireGoInCI("(to build test/e2e/go/workload-peer)");

const uid = process.getuid!();
const goId = "spiffe://example.org/workload/go";
const nodeId = "spiffe://example.org/workload/node";
const strangerId = "spiffe://example.org/workload/stranger";

interface FetchOut {
  x509Svids: { id: string; hint: string; serial: string; leafSha256: string; notAfter: string; chainLength: number; verifiedId: string; verifyError: string }[];
  defaultX509Id: string;
  defaultSourceX509Id: string;
  contextBundles: Record<string, string[]>;
  x509Bundles: Record<string, string[]>;
  jwtSvid: {
    id: string;
    hint: string;
    audience: string[];
    expiry: string;
    token: string;
    parsedId: string;
    parsedAudience: string[] | null;
    parseError: string;
    validatedId: string;
    validatedClaims: string[] | null;
    validateError: string;
    wrongAudienceParseError: string;
    wrongAudienceValidateError: string;
  };
  jwtSvidIds: string[];
  jwtBundleKeyIds: Record<string, string[]>;
}

interface GoDial {
  ok: boolean;
  ownId: string;
  serverId?: string;
  serverSerial?: string;
  reply?: string;
  stage?: string;
  error?: string;
}

interface GoEvent {
  event: "echoed" | "handshake-failed" | "read-failed" | "write-failed";
  peerId?: string;
  peerSerial?: string;
  received?: string;
  error?: string;
}

describe.skipIf(!haveGo)("go-spiffe v2 workloadapi and tlsconfig against signet-agent", () => {
  let server: TestServer;
  let agent: RunningAgent;
  let socketPath = "";
  let agentDir = "";
  let source: X509Source;
  const goServers: ChildProcessWithoutNullStreams[] = [];
  const nodeServers: EchoServer[] = [];

  const goPeer = join(goBuildDir, "workload-peer");
  const goEnv = () => ({ ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${socketPath}` });

  function runGo<T>(args: string[]): Promise<T> {
    return new Promise((resolve, reject) =>
      execFile(goPeer, args, { env: goEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`workload-peer ${args[0]} failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as T);
      }),
    );
  }

  /** A Go mTLS server presenting `id` and admitting only `peer`; its connection events in order. */
  async function startGoServer(id: string, peer: string): Promise<{ port: number; nextEvent(): Promise<GoEvent> }> {
    const child = spawn(goPeer, ["serve", "-id", id, "-peer", peer], { env: goEnv() });
    goServers.push(child);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`workload-peer serve exited: ${stderr}`);
    const { listening } = JSON.parse(first.value as string) as { listening: string };
    return {
      port: Number(listening.slice(listening.lastIndexOf(":") + 1)),
      nextEvent: async () => {
        const next = await lines.next();
        if (next.done) throw new Error(`workload-peer serve exited: ${stderr}`);
        return JSON.parse(next.value as string) as GoEvent;
      },
    };
  }

  beforeAll(async () => {
    const built = goBuild("workload-peer", ["."]);
    server = await startTestServer();
    const token = await server.joinToken();
    const parentId = `spiffe://example.org/spire/agent/join_token/${token}`;
    // Both identities for this uid: each peer picks its own by SPIFFE ID.
    await server.createEntry({ spiffeId: goId, parentId, selectors: [`unix:uid:${uid}`], hint: "go" });
    await server.createEntry({ spiffeId: nodeId, parentId, selectors: [`unix:uid:${uid}`], hint: "node" });
    ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, { token }));
    source = await X509Source.create({
      address: `unix://${socketPath}`,
      picker: (svids) => svids.find((s) => s.spiffeId.toString() === nodeId) ?? svids[0]!,
    });
    await built;
  }, goBuildTimeoutMs);

  afterAll(async () => {
    for (const child of goServers) child.kill();
    for (const s of nodeServers) await s.close();
    await source?.close();
    await agent?.stop();
    await server?.stop();
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  });

  it("serves go-spiffe the X509 context, bundles and JWT-SVIDs, which go-spiffe's verifiers accept", async () => {
    const out = await runGo<FetchOut>(["fetch", "-audience", "db"]);

    // X.509: both identities, each verified by x509svid.Verify against the context's bundle set.
    expect(out.x509Svids.map((s) => [s.id, s.hint]).sort()).toEqual([
      [goId, "go"],
      [nodeId, "node"],
    ]);
    for (const s of out.x509Svids) {
      expect(s.verifyError).toBe("");
      expect(s.verifiedId).toBe(s.id);
      expect(s.chainLength).toBeGreaterThanOrEqual(1);
      expect(Date.parse(s.notAfter)).toBeGreaterThan(Date.now());
    }
    // Go and Node get the same certificates in the same order (go-spiffe's default is the first).
    const nodeSvids = source.getX509Svids();
    expect(out.x509Svids.map((s) => [s.id, s.leafSha256])).toEqual(nodeSvids.map((s) => [s.spiffeId.toString(), sha256(s.leaf.raw)]));
    expect(out.defaultX509Id).toBe(out.x509Svids[0]!.id);
    expect(out.defaultSourceX509Id).toBe(out.defaultX509Id);

    // Bundles: the server's X.509 authorities, in the context and from FetchX509Bundles alike.
    const authorities = pemCertificates(await server.bundlePem()).map((c) => sha256(c.raw)).sort();
    expect(authorities.length).toBeGreaterThan(0);
    expect(out.contextBundles).toEqual({ "example.org": authorities });
    expect(out.x509Bundles).toEqual({ "example.org": authorities });

    // JWT: the default identity's token for the audience, accepted locally and by the agent.
    const jwt = out.jwtSvid;
    expect(jwt.id).toBe(out.defaultX509Id);
    expect(jwt.audience).toEqual(["db"]);
    expect(Date.parse(jwt.expiry)).toBeGreaterThan(Date.now());
    expect(jwt.parseError).toBe("");
    expect(jwt.parsedId).toBe(jwt.id);
    expect(jwt.parsedAudience).toEqual(["db"]);
    expect(jwt.validateError).toBe("");
    expect(jwt.validatedId).toBe(jwt.id);
    expect(jwt.validatedClaims).toEqual(expect.arrayContaining(["aud", "exp", "iat", "sub"]));
    expect(jwt.wrongAudienceParseError).toMatch(/expected audience in \["db-other"\]/);
    expect(jwt.wrongAudienceValidateError).toMatch(/InvalidArgument/);
    expect(out.jwtSvidIds.slice().sort()).toEqual([goId, nodeId]);
    const kid = (JSON.parse(Buffer.from(jwt.token.split(".")[0]!, "base64url").toString()) as { kid: string }).kid;
    expect(out.jwtBundleKeyIds["example.org"]).toContain(kid);
  });

  it("Node client (X509Source + mtlsClientOptions) and go-spiffe MTLSServerConfig admit each other by exact ID", async () => {
    const go = await startGoServer(goId, nodeId);
    const goSerial = source.getX509Svids().find((s) => s.spiffeId.toString() === goId)!.leaf.serialNumber;
    const event = go.nextEvent();
    const res = await dialOnce(go.port, source, authorizeId(goId), "from-node");
    expect(res).toEqual({ ok: true, reply: "go:from-node", serverId: goId, serverSerial: serialHex(goSerial) });
    expect(await event).toEqual({ event: "echoed", peerId: nodeId, peerSerial: serialHex(source.getX509Svid().leaf.serialNumber), received: "from-node" });

    // Our authorizer refuses the Go server when it expects someone else: no data is sent.
    const wrong = await dialOnce(go.port, source, authorizeId(strangerId), "never");
    expect(wrong.ok).toBe(false);
    expect(wrong.error).toBe(`unexpected ID "${goId}"`);
    expect(await go.nextEvent()).toMatchObject({ event: "handshake-failed" });
  });

  it("go-spiffe's authorizer refuses the Node client when it admits another ID", async () => {
    const go = await startGoServer(goId, strangerId);
    const event = go.nextEvent();
    const res = await dialOnce(go.port, source, authorizeId(goId), "refused");
    expect(res.ok).toBe(false);
    expect(res.reply).toBeUndefined();
    const refused = await event;
    expect(refused.event).toBe("handshake-failed");
    expect(refused.error).toContain(`unexpected ID "${nodeId}"`);
  });

  it("go-spiffe MTLSClientConfig and a Node server (createMtlsServer) admit each other by exact ID", async () => {
    const node = await startEchoServer(source, authorizeId(goId), "node");
    nodeServers.push(node);
    const event = node.nextEvent();
    const res = await runGo<GoDial>(["dial", "-addr", `127.0.0.1:${node.port}`, "-id", goId, "-peer", nodeId, "-msg", "from-go"]);
    expect(res).toEqual({ ok: true, ownId: goId, serverId: nodeId, serverSerial: serialHex(source.getX509Svid().leaf.serialNumber), reply: "node:from-go" });
    expect(await event).toMatchObject({ event: "echoed", peerId: goId, received: "from-go" });

    // go-spiffe's authorizer refuses our server when it expects someone else.
    const wrong = await runGo<GoDial>(["dial", "-addr", `127.0.0.1:${node.port}`, "-id", goId, "-peer", strangerId, "-msg", "never"]);
    expect(wrong).toMatchObject({ ok: false, stage: "handshake" });
    expect(wrong.error).toContain(`unexpected ID "${nodeId}"`);
  });

  it("the Node server's authorizer refuses the Go client when it admits another ID", async () => {
    const node = await startEchoServer(source, authorizeId(strangerId), "node");
    nodeServers.push(node);
    const event = node.nextEvent();
    const res = await runGo<GoDial>(["dial", "-addr", `127.0.0.1:${node.port}`, "-id", goId, "-peer", nodeId, "-msg", "refused"]);
    expect(res.ok).toBe(false);
    expect(res.reply).toBeUndefined();
    expect(await event).toEqual({ event: "refused", error: `unexpected ID "${goId}"` });
    expect(node.events.filter((e) => e.event === "echoed")).toEqual([]);
  });
});

function sha256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}
