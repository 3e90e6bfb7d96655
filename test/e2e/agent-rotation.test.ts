/**
 * X509-SVID rotation seen from workloads: with entries of 10-second SVIDs, watching @signet/spiffe
 * X509Sources on a real signet-agent receive new SVIDs (new serials) before the old ones
 * expire, again and again; a Node mTLS server built on one source hot-swaps its certificate, so
 * every new connection after a rotation succeeds and is served with the new SVID, while a
 * connection opened before the first rotation keeps echoing throughout.
 */
import { once } from "node:events";
import { rmSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import type { RunningAgent } from "@signet/agent";
import { authorizeId, mtlsClientOptions, peerSpiffeId, type X509Svid, X509Source } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";
import { dialOnce, type EchoServer, serialHex, startEchoServer } from "./spiffe-tls-peers.js";

const uid = process.getuid!();
const serverId = "spiffe://example.org/rotation/server";
const clientId = "spiffe://example.org/rotation/client";
const rotationsWanted = 2;
/** The entries ask for 10-second X509-SVIDs (the server default stays at 1 h). */
const svidTtlSeconds = 10;

interface Seen {
  readonly serial: string;
  readonly notAfter: number;
  readonly at: number;
}

/** Every distinct X509-SVID a source has held for its picked identity, in arrival order. */
function followSerials(source: X509Source): { seen: Seen[]; next(after: number): Promise<Seen> } {
  const seen: Seen[] = [];
  let waiters: (() => void)[] = [];
  const record = () => {
    const svid = source.getX509Svid();
    const serial = serialHex(svid.leaf.serialNumber);
    if (seen.at(-1)?.serial === serial) return;
    seen.push({ serial, notAfter: svid.expiresAt.getTime(), at: Date.now() });
    const w = waiters;
    waiters = [];
    for (const wake of w) wake();
  };
  record();
  source.subscribe(record);
  return {
    seen,
    /** The SVID that followed seen[after], waiting for it if it has not come yet. */
    async next(after) {
      while (seen.length < after + 2) await new Promise<void>((resolve) => waiters.push(resolve));
      return seen[after + 1]!;
    },
  };
}

/** A connection kept open for the whole test: one line out, one line back. */
async function openLongLived(port: number, source: X509Source): Promise<{ socket: TLSSocket; echo(line: string): Promise<string> }> {
  const socket = connect({ host: "127.0.0.1", port, ...mtlsClientOptions(source, authorizeId(serverId)) });
  socket.setEncoding("utf8");
  await once(socket, "secureConnect");
  let buffered = "";
  let pending: { resolve(line: string): void; reject(err: Error): void } | undefined;
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    const i = buffered.indexOf("\n");
    if (i >= 0 && pending) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      pending.resolve(line);
      pending = undefined;
    }
  });
  const fail = (err?: Error) => {
    pending?.reject(err ?? new Error("long-lived connection closed"));
    pending = undefined;
  };
  socket.on("error", fail);
  socket.on("close", () => fail());
  return {
    socket,
    echo: (line) =>
      new Promise((resolve, reject) => {
        if (socket.destroyed) return reject(new Error("long-lived connection closed"));
        pending = { resolve, reject };
        socket.write(`${line}\n`);
      }),
  };
}

describe("X509-SVID rotation through the Workload API to mTLS workloads", () => {
  let server: TestServer;
  let agent: RunningAgent;
  let agentDir = "";
  let serverSource: X509Source;
  let clientSource: X509Source;
  let echo: EchoServer | undefined;
  let long: Awaited<ReturnType<typeof openLongLived>> | undefined;

  beforeAll(async () => {
    server = await startTestServer();
    const token = await server.joinToken();
    const parentId = `spiffe://example.org/spire/agent/join_token/${token}`;
    await server.createEntry({ spiffeId: serverId, parentId, selectors: [`unix:uid:${uid}`], x509SvidTtl: svidTtlSeconds });
    await server.createEntry({ spiffeId: clientId, parentId, selectors: [`unix:uid:${uid}`], x509SvidTtl: svidTtlSeconds });
    let socketPath: string;
    ({ agent, socketPath, dir: agentDir } = await startTestAgent(server, { token }));
    const pick = (id: string) => (svids: readonly X509Svid[]) => svids.find((s) => s.spiffeId.toString() === id) ?? svids[0]!;
    serverSource = await X509Source.create({ address: `unix://${socketPath}`, picker: pick(serverId) });
    clientSource = await X509Source.create({ address: `unix://${socketPath}`, picker: pick(clientId) });
  }, 60_000);

  afterAll(async () => {
    long?.socket.destroy();
    await echo?.close();
    await serverSource?.close();
    await clientSource?.close();
    await agent?.stop();
    await server?.stop();
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  });

  it("delivers rotated SVIDs before expiry; the hot-swapping server serves new connections with them and keeps old ones", async () => {
    expect(serverSource.getX509Svid().spiffeId.toString()).toBe(serverId);
    expect(clientSource.getX509Svid().spiffeId.toString()).toBe(clientId);
    const serverSerials = followSerials(serverSource);
    const clientSerials = followSerials(clientSource);
    const first = serverSerials.seen[0]!;
    expect(first.notAfter - Date.now()).toBeLessThanOrEqual(svidTtlSeconds * 1000);

    echo = await startEchoServer(serverSource, authorizeId(clientId), "echo");
    // Connections present the server's current SVID: the one of the dial or a later one.
    const servedFrom = (serial: string | undefined) => serverSerials.seen.findIndex((s) => s.serial === serial);
    let atDial = serverSerials.seen.length - 1;
    const before = await dialOnce(echo.port, clientSource, authorizeId(serverId), "before");
    expect(before).toMatchObject({ ok: true, reply: "echo:before", serverId });
    expect(servedFrom(before.serverSerial)).toBeGreaterThanOrEqual(atDial);
    atDial = serverSerials.seen.length - 1;
    long = await openLongLived(echo.port, clientSource);
    expect(peerSpiffeId(long.socket)?.toString()).toBe(serverId);
    const longServed = servedFrom(serialHex(long.socket.getPeerX509Certificate()!.serialNumber));
    expect(longServed).toBeGreaterThanOrEqual(atDial);
    expect(await long.echo("long-0")).toBe("echo:long-0");

    // At least `rotationsWanted` rotations, and on until the SVIDs of the long-lived connection
    // have expired: every connection from then on needs a rotated certificate on both sides.
    const firstExpiry = Math.max(serverSerials.seen[longServed]!.notAfter, clientSerials.seen.at(-1)!.notAfter);
    let n = 0;
    while (n < rotationsWanted || Date.now() <= firstExpiry + 1000) {
      n++;
      const previous = serverSerials.seen.at(-1)!;
      const rotated = await serverSerials.next(serverSerials.seen.length - 1);
      expect(rotated.serial).not.toBe(previous.serial);
      expect(rotated.at).toBeLessThan(previous.notAfter);
      expect(rotated.notAfter).toBeGreaterThanOrEqual(previous.notAfter);

      // A new connection is served with the rotated SVID (or a later one, if the agent was quicker).
      const res = await dialOnce(echo.port, clientSource, authorizeId(serverId), `after-${n}`);
      expect(res).toMatchObject({ ok: true, reply: `echo:after-${n}`, serverId });
      expect(servedFrom(res.serverSerial)).toBeGreaterThanOrEqual(serverSerials.seen.indexOf(rotated));
      // The server saw one of the client's SVIDs, not an expired one.
      const lastEvent = echo.events.filter((e) => e.event === "echoed").at(-1)!;
      expect(lastEvent).toMatchObject({ peerId: clientId, received: `after-${n}` });
      const clientSvid = clientSerials.seen.find((s) => s.serial === lastEvent.peerSerial);
      expect(clientSvid).toBeDefined();
      expect(clientSvid!.notAfter).toBeGreaterThan(Date.now() - 1000);

      // The connection opened before any rotation keeps working.
      expect(await long.echo(`long-${n}`)).toBe(`echo:long-${n}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(Date.now()).toBeGreaterThan(firstExpiry);
    expect(clientSerials.seen.length).toBeGreaterThan(1);
    expect(echo.events.filter((e) => e.event === "refused")).toEqual([]);
    const gaps = serverSerials.seen.slice(1).map((s, i) => s.at - serverSerials.seen[i]!.at);
    console.log(`rotation: ${n} checks; server SVIDs ${serverSerials.seen.length}, client SVIDs ${clientSerials.seen.length}; gaps between server rotations (ms): ${gaps.join(" ")}`);
  }, 40_000);
});
