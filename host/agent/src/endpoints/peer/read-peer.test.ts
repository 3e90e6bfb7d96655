import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type Server, type Socket, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RpcError } from "@signet/proto";
import { afterEach, describe, expect, it } from "vitest";
import { PeerCredentialsError, type PeerProcess, attestCaller, readPeer } from "./index.js";
import { startTimeOf } from "./proc-stat.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A Unix-socket server whose accepted sockets are handed over, peer read at accept as the agent does. */
async function listen(options: { peerPidfd?: boolean } = {}): Promise<{ path: string; next(): Promise<{ socket: Socket; peer: PeerProcess }> }> {
  const dir = mkdtempSync(join(tmpdir(), "signet-peer-"));
  const path = join(dir, "api.sock");
  const waiting: ((v: { socket: Socket; peer: PeerProcess } | Error) => void)[] = [];
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    let result: { socket: Socket; peer: PeerProcess } | Error;
    try {
      const peer = readPeer(socket, options);
      cleanups.push(() => peer.close());
      result = { socket, peer };
    } catch (err) {
      result = err as Error;
    }
    waiting.shift()?.(result);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    path,
    next: () =>
      new Promise((resolve, reject) => {
        waiting.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
      }),
  };
}

/** A separate node process that connects to `path` and stays until killed. */
function childConnecting(path: string): ChildProcess {
  const child = spawn(process.execPath, ["-e", `require("net").connect(${JSON.stringify(path)}); setInterval(() => {}, 1000);`], { stdio: "ignore" });
  cleanups.push(() => child.kill("SIGKILL"));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

describe("readPeer", () => {
  it("reads this process's pid, uid and gid from the kernel and pins it with SO_PEERPIDFD", async () => {
    const server = await listen();
    const accepted = server.next();
    const client = connect(server.path);
    cleanups.push(() => client.destroy());
    const { peer } = await accepted;
    expect({ pid: peer.pid, uid: peer.uid, gid: peer.gid }).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    expect(peer.binding).toBe("peer-pidfd");
    expect(peer.stillAlive()).toBe(true);
    expect(peer.exitReason()).toBeUndefined();
  });

  for (const peerPidfd of [true, false]) {
    const binding = peerPidfd ? "peer-pidfd" : "pidfd-open";
    it(`identifies a child process and sees it exit (${binding})`, async () => {
      const server = await listen({ peerPidfd });
      const accepted = server.next();
      const child = childConnecting(server.path);
      const { peer } = await accepted;
      expect(peer.pid).toBe(child.pid);
      expect(peer.pid).not.toBe(process.pid);
      expect(peer.binding).toBe(binding);
      expect(peer.stillAlive()).toBe(true);

      child.kill("SIGKILL");
      await exited(child);
      expect(peer.stillAlive()).toBe(false);
      expect(peer.exitReason()).toMatch(/^caller exit (detected|suspected)/);
    });
  }

  it("a peer that exited before accept is never alive: pinned dead (SO_PEERPIDFD) or refused (pidfd_open fallback)", async () => {
    for (const peerPidfd of [true, false]) {
      const server = await listen({ peerPidfd });
      const accepted = server.next().then(
        ({ peer }) => peer,
        (err: unknown) => err as Error,
      );
      // spawnSync blocks this process, so the child connects and exits before the accept runs.
      const child = spawnSync(process.execPath, ["-e", `require("net").connect(${JSON.stringify(server.path)}).on("connect", () => process.exit(0))`]);
      expect(child.status).toBe(0);
      const result = await accepted;
      if (result instanceof Error) {
        expect(result).toBeInstanceOf(PeerCredentialsError);
        if (!peerPidfd) expect(result.message).toBe("could not open caller's pidfd: pidfd_open: ESRCH");
      } else {
        expect(peerPidfd).toBe(true);
        expect(result.pid).toBe(child.pid);
        expect(result.stillAlive()).toBe(false);
      }
    }
  });

  it("a closed peer never counts as alive again, and closing twice is harmless", async () => {
    const server = await listen();
    const accepted = server.next();
    const client = connect(server.path);
    cleanups.push(() => client.destroy());
    const { peer } = await accepted;
    peer.close();
    peer.close();
    expect(peer.stillAlive()).toBe(false);
    expect(peer.exitReason()).toBe("caller is no longer being watched");
  });

  it("refuses a TCP connection: the kernel has no peer process for it", async () => {
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const address = server.address();
    const client = connect(typeof address === "object" && address ? address.port : 0, "127.0.0.1");
    cleanups.push(() => client.destroy());
    const socket = await accepted;
    cleanups.push(() => socket.destroy());
    expect(() => readPeer(socket)).toThrow(PeerCredentialsError);
    expect(() => readPeer(socket)).toThrow("could not resolve caller information");
  });

  it("refuses a socket that has no file descriptor", () => {
    const unconnected = connect({ path: "/nonexistent/signet.sock" });
    unconnected.on("error", () => {});
    unconnected.destroy();
    expect(() => readPeer(unconnected)).toThrow(new PeerCredentialsError("invalid connection: no file descriptor"));
  });
});

describe("attestCaller", () => {
  it("returns what attestation found while the caller lives", async () => {
    const server = await listen();
    const accepted = server.next();
    const child = childConnecting(server.path);
    const { peer } = await accepted;
    const seen: number[] = [];
    const result = await attestCaller(peer, async (pid) => {
      seen.push(pid);
      return [`pid:${pid}`];
    });
    expect(seen).toEqual([child.pid]);
    expect(result).toEqual([`pid:${child.pid}`]);
  });

  it("fails Unauthenticated when the caller died during attestation, and for every later call", async () => {
    const server = await listen();
    const accepted = server.next();
    const child = childConnecting(server.path);
    const { peer } = await accepted;
    const attest = async (pid: number) => {
      child.kill("SIGKILL");
      await exited(child);
      return [`pid:${pid}`];
    };
    const err = await attestCaller(peer, attest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.UNAUTHENTICATED);
    expect((err as RpcError).message).toMatch(/^could not verify existence of the original caller: caller exit/);
    await expect(attestCaller(peer, async () => [])).rejects.toThrow("could not verify existence of the original caller: caller is no longer being watched");
  });
});

describe("startTimeOf", () => {
  it("counts fields from the last parenthesis, whatever the command name holds", () => {
    const tail = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(startTimeOf(`1234 (a) b (c) ${tail.join(" ")}`)).toBe("22");
    expect(() => startTimeOf("1234 no-parens 3 4")).toThrow("task name is not parenthesized");
    expect(() => startTimeOf("1234 (x) S 1 2")).toThrow("bad stat data");
  });
});
