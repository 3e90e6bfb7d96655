import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { type Server as NetServer, type Socket, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, credentials } from "@grpc/grpc-js";
import { Code, RpcError, createClient, implement } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";
import { createLogger } from "@signet/host-common";
import { afterEach, describe, expect, it } from "vitest";
import { PeerCredentialsError, type PeerCredentials, type PeerProcess, attestCaller, readPeer as readKernelPeer } from "../peer/index.js";
import { PeerTracker, type UdsServer, startUdsServer } from "./index.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "signet-uds-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function channelTo(path: string): Channel {
  const channel = new Channel(`unix:${path}`, credentials.createInsecure(), {});
  cleanups.push(() => channel.close());
  return channel;
}

/** A Health service whose Check reports back (in `seen`) the peer the tracker gives the call. */
function healthReportingPeers(tracker: () => PeerTracker) {
  const seen: (PeerCredentials | undefined)[] = [];
  const registration = implement(HealthService, {
    async check(_req, ctx) {
      const peer = tracker().connectionOf(ctx);
      seen.push(peer && { pid: peer.pid, uid: peer.uid, gid: peer.gid });
      if (!peer) throw new RpcError(Code.INTERNAL, "handler saw no peer");
      await attestCaller(peer, async () => []);
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
    async *watch(_req, ctx) {
      yield { status: HealthCheckResponse_ServingStatus.SERVING };
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
    },
  });
  return { seen, registration };
}

async function start(options: { path?: string; mode?: number; readPeer?: (s: import("node:net").Socket) => PeerProcess; log?: ReturnType<typeof createLogger> } = {}) {
  let server: UdsServer | undefined;
  const health = healthReportingPeers(() => server!.tracker);
  server = await startUdsServer({ path: options.path ?? join(tempDir(), "api.sock"), services: [health.registration], ...options });
  cleanups.push(() => server.close());
  return { server, seen: health.seen };
}

describe("startUdsServer", () => {
  it("serves gRPC on the socket and each call's handler sees its own caller", async () => {
    const { server, seen } = await start();
    const health = createClient(HealthService, channelTo(server.path));
    const res = await health.check({ service: "" });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(seen).toEqual([{ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() }]);
    expect(server.tracker.size).toBe(1);
  });

  it("tells onConnection of each accepted connection's peer before a call on it runs, the very peer the call gets, and when it closes", async () => {
    const order: string[] = [];
    const accepted: PeerProcess[] = [];
    const closedSignals: AbortSignal[] = [];
    let server: UdsServer | undefined;
    const registration = implement(HealthService, {
      async check(_req, ctx) {
        const peer = server!.tracker.connectionOf(ctx);
        order.push(`call:${accepted.indexOf(peer!)}`);
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    });
    server = await startUdsServer({
      path: join(tempDir(), "api.sock"),
      services: [registration],
      onConnection: (peer, closed) => {
        accepted.push(peer);
        closedSignals.push(closed);
        order.push(`accept:${peer.pid}`);
      },
    });
    const s = server;
    cleanups.push(() => s.close());
    // Own subchannel pools: two connections, not one shared.
    const channels: Channel[] = [];
    for (let i = 0; i < 2; i++) {
      const channel = new Channel(`unix:${server.path}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
      channels.push(channel);
      cleanups.push(() => channel.close());
      await createClient(HealthService, channel).check({ service: "" });
    }
    expect(order).toEqual([`accept:${process.pid}`, "call:0", `accept:${process.pid}`, "call:1"]);
    expect(closedSignals.map((c) => c.aborted)).toEqual([false, false]);
    channels[0]!.close();
    await waitFor(() => closedSignals[0]!.aborted);
    expect(closedSignals[1]!.aborted).toBe(false);
  });

  it("identifies a call made by another process as that process", async () => {
    const { server, seen } = await start();
    const script = `
      const grpc = require("@grpc/grpc-js");
      const client = new grpc.Client("unix:" + process.argv[1], grpc.credentials.createInsecure());
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", (b) => b, (b) => b, Buffer.alloc(0), (err) => {
        process.stdout.write(err ? "error " + err.code : "ok");
        process.exit(0);
      });`;
    const child = spawn(process.execPath, ["-e", script, server.path], { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] });
    cleanups.push(() => child.kill("SIGKILL"));
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.once("exit", resolve));
    expect(out).toBe("ok");
    expect(seen).toEqual([{ pid: child.pid, uid: process.getuid!(), gid: process.getgid!() }]);
  });

  it("drops a connection whose peer cannot be read, with one warning", async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const { server, seen } = await start({
      log,
      readPeer: () => {
        throw new PeerCredentialsError("could not resolve caller information");
      },
    });
    const health = createClient(HealthService, channelTo(server.path));
    const err = await health.check({ service: "" }, { deadline: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.UNAVAILABLE);
    expect(seen).toEqual([]);
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "Connection failed during accept");
    expect(warning).toMatchObject({ level: "warn", error: "could not resolve caller information" });
  });

  it("sets the socket's mode: 0777 by default (public socket), or the one asked for", async () => {
    const dir = tempDir();
    const pub = await start({ path: join(dir, "public.sock") });
    expect(statSync(pub.server.path).mode & 0o777).toBe(0o777);
    const restricted = await start({ path: join(dir, "admin.sock"), mode: 0o770 });
    expect(statSync(restricted.server.path).mode & 0o777).toBe(0o770);
  });

  it("creates missing parent directories", async () => {
    const path = join(tempDir(), "a", "b", "api.sock");
    const { server } = await start({ path });
    expect(statSync(server.path).isSocket()).toBe(true);
  });

  it("replaces a stale socket file left by a killed process", async () => {
    const path = join(tempDir(), "api.sock");
    const script = `require("net").createServer().listen(process.argv[1], () => process.kill(process.pid, "SIGKILL"));`;
    const child = spawn(process.execPath, ["-e", script, path], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    expect(statSync(path).isSocket()).toBe(true);
    const { server, seen } = await start({ path });
    await createClient(HealthService, channelTo(server.path)).check({ service: "" });
    expect(seen).toHaveLength(1);
  });

  it("refuses a path that is not a socket, or a socket another server answers on", async () => {
    const dir = tempDir();
    const file = join(dir, "file.sock");
    writeFileSync(file, "keep me");
    await expect(start({ path: file })).rejects.toThrow(`socket path ${file} exists and is not a socket`);
    expect(statSync(file).isFile()).toBe(true);

    const live = join(dir, "live.sock");
    const other: NetServer = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => other.listen(live, resolve));
    cleanups.push(() => other.close());
    await expect(start({ path: live })).rejects.toThrow(`another server is already listening on ${live}`);
  });

  it("close() ends live streams, releases the peers and removes the socket file", async () => {
    const peers: PeerProcess[] = [];
    const { readPeer } = await import("../peer/index.js");
    const { server } = await start({
      readPeer: (socket) => {
        const peer = readPeer(socket);
        peers.push(peer);
        return peer;
      },
    });
    const health = createClient(HealthService, channelTo(server.path));
    const stream = health.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
    expect(peers).toHaveLength(1);
    expect(peers[0]!.stillAlive()).toBe(true);

    await server.close();
    await expect(stream.next()).rejects.toBeInstanceOf(RpcError);
    expect(peers[0]!.exitReason()).toBe("caller is no longer being watched");
    expect(existsSync(server.path)).toBe(false);
    expect(server.tracker.size).toBe(0);
    await server.close();
  });

  it("forgets a connection when its client goes away", async () => {
    const { server } = await start();
    const channel = channelTo(server.path);
    await createClient(HealthService, channel).check({ service: "" });
    expect(server.tracker.size).toBe(1);
    channel.close();
    await waitFor(() => server.tracker.size === 0);
  });
});

describe("PeerTracker", () => {
  it("gives a call's peer only while its connection is tracked, and nothing for a call with no tracked connection", async () => {
    const dir = tempDir();
    const path = join(dir, "t.sock");
    const accepted: Socket[] = [];
    const listener = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    cleanups.push(() => listener.close());
    const client = createConnection(path);
    cleanups.push(() => client.destroy());
    await waitFor(() => accepted.length === 1);
    const socket = accepted[0]!;
    const peer = readKernelPeer(socket);

    const tracker = new PeerTracker();
    expect(tracker.connectionOf({ connection: peer })).toBeUndefined();
    expect(tracker.connectionOf({ connection: undefined })).toBeUndefined();
    tracker.track(socket, peer);
    expect(tracker.connectionOf({ connection: peer })).toBe(peer);
    expect(tracker.size).toBe(1);
    socket.destroy();
    await waitFor(() => tracker.size === 0);
    expect(tracker.connectionOf({ connection: peer })).toBeUndefined();
    expect(peer.exitReason()).toBe("caller is no longer being watched");
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
