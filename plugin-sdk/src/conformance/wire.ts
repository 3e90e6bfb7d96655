/**
 * The plugin's whole life as the host's pipes see it: the exact bytes of the
 * handshake line and when they came, every stderr line from spawn to exit,
 * and how the process left after Shutdown. The launcher in
 * @signet/plugin-protocol hides these (it parses the line and relays stderr),
 * so this spawns the program itself and then drives it with the protocol
 * package's connection, as a host would.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { HealthService } from "@signet/proto/grpc/health/v1/health";
import { HostServiceServer, PluginConnection, type ProtocolLog, parseHandshakeLine, pluginEnvironment } from "@signet/plugin-protocol";
import { type ResolvedPlugin, configText } from "./plugin.js";
import { shutdownGraceMs } from "./harness.js";
import { withTimeout } from "./suite.js";

export interface WireRecord {
  /** Bytes on stdout up to and including the first newline; undefined if none came. */
  readonly firstLine: string | undefined;
  /** Milliseconds from spawn to the first newline on stdout. */
  readonly handshakeMs: number | undefined;
  /** Whether the Unix socket named in the handshake line existed when the line came. */
  readonly socketExisted: boolean;
  /** Why the session could not be driven to the end, if it could not. */
  readonly error: string | undefined;
  /** Milliseconds from the end of the Shutdown call to the exit; undefined if it had to be killed or never got there. */
  readonly exitAfterShutdownMs: number | undefined;
  readonly exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  readonly stdoutAfterHandshake: string;
  readonly stderrLines: readonly string[];
}

const quiet: ProtocolLog = { log: () => {} };

/** The environment a go-plugin host gives a plugin (reference §1.2). */
export function hostEnvironment(plugin: ResolvedPlugin, withCookie: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...plugin.env };
  delete env[plugin.type];
  if (!withCookie) return env;
  return pluginEnvironment(plugin.type, env);
}

function command(plugin: ResolvedPlugin): [string, string[]] {
  return plugin.node ? [process.execPath, [plugin.file, ...plugin.args]] : [plugin.file, [...plugin.args]];
}

/**
 * Spawn → handshake → Init → Configure (good, then each bad one, then good
 * again, so error paths log too) → health probe → Deinit/Shutdown → exit.
 */
export async function recordWireSession(plugin: ResolvedPlugin): Promise<WireRecord> {
  const [file, args] = command(plugin);
  const start = performance.now();
  const child = spawn(file, args, { env: hostEnvironment(plugin, true), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let firstLine: string | undefined;
  let handshakeMs: number | undefined;
  let exit: WireRecord["exit"];
  const exited = new Promise<NonNullable<WireRecord["exit"]>>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const gotLine = new Promise<void>((resolve) => {
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      const nl = stdout.indexOf("\n");
      if (firstLine === undefined && nl >= 0) {
        handshakeMs = performance.now() - start;
        firstLine = stdout.slice(0, nl + 1);
        resolve();
      }
    });
  });
  const spawnError = new Promise<string>((resolve) => child.once("error", (e) => resolve(`could not start ${file}: ${e.message}`)));

  let error: string | undefined;
  let socketExisted = false;
  let exitAfterShutdownMs: number | undefined;
  let connection: PluginConnection | undefined;
  let hostServer: HostServiceServer | undefined;
  try {
    const early = await Promise.race([
      gotLine.then(() => undefined),
      exited.then((how) => `the plugin exited before printing a handshake line (${how.signal ?? `code ${how.code}`})`),
      spawnError,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve(`no handshake line within ${plugin.handshakeTimeoutMs} ms`), plugin.handshakeTimeoutMs).unref(),
      ),
    ]);
    if (early) throw new Error(early);
    const handshake = parseHandshakeLine(firstLine!);
    socketExisted = handshake.network === "tcp" || existsSync(handshake.address);
    hostServer = await HostServiceServer.start(plugin.hostServices ?? [], `conformance-wire-${plugin.type}`);
    connection = new PluginConnection(handshake, quiet);
    await connection.initialize(hostServer, plugin.callTimeoutMs);
    if (plugin.configurable) {
      const good = await configText(plugin);
      const configure = (text: string) => connection!.configure(plugin.trustDomain, text, plugin.callTimeoutMs);
      // A refused configuration is judged by other checks; this run goes on to Shutdown regardless.
      await configure(good).catch(() => {});
      for (const bad of plugin.badConfigs) await configure(bad.text).catch(() => {});
      await configure(good).catch(() => {});
    }
    await connection
      .client(HealthService)
      .check({ service: "plugin" }, { deadline: plugin.callTimeoutMs })
      .catch(() => {});
    await connection.shutdown(10_000);
    const t0 = performance.now();
    if (await withTimeout(exited, shutdownGraceMs, "").catch(() => undefined)) exitAfterShutdownMs = performance.now() - t0;
  } catch (e) {
    error = (e as Error).message;
  } finally {
    if (!exit) child.kill("SIGKILL");
    await Promise.race([exited, spawnError]);
    connection?.close();
    await hostServer?.stop();
  }
  return {
    firstLine,
    handshakeMs,
    socketExisted,
    error,
    exitAfterShutdownMs,
    exit,
    stdoutAfterHandshake: firstLine === undefined ? stdout : stdout.slice(firstLine.length),
    stderrLines: stderr.split("\n").filter((l) => l.trim() !== ""),
  };
}

export interface ManualRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** The program started by a person: no cookie, nothing of the host's environment. */
export async function runWithoutCookie(plugin: ResolvedPlugin, timeoutMs = 5_000): Promise<ManualRun> {
  const [file, args] = command(plugin);
  const child = spawn(file, args, { env: hostEnvironment(plugin, false), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once("error", () => resolve([null, null]));
    child.once("close", (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  return { code, signal, stdout, stderr, timedOut };
}
