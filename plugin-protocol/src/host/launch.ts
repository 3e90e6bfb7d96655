import { type ChildProcess, spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { ProtocolLog } from "../log.js";
import { type Handshake, HandshakeError, parseHandshakeLine } from "./handshake.js";
import { LineTail, relayPluginLine } from "./stderr-log.js";

/** What to run for one plugin: an executable, or a JS entry point run by this Node. */
export interface LaunchCommand {
  /** The file that is checksummed: the executable, or the JS entry point. */
  readonly file: string;
  /** True: run `file` with this process's Node (packaged plugins); false: exec `file` itself. */
  readonly node: boolean;
  readonly args: readonly string[];
}

export interface LaunchOptions {
  readonly type: string;
  readonly command: LaunchCommand;
  /** Lower-case hex SHA-256 of `command.file`; checked before spawning. */
  readonly checksum?: string;
  readonly handshakeTimeoutMs: number;
  readonly log: ProtocolLog;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LaunchedPlugin {
  readonly child: ChildProcess;
  readonly handshake: Handshake;
  readonly stderr: LineTail;
  /** Resolves when the process has exited, with how. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class LaunchError extends Error {
  override readonly name = "LaunchError";
}

/**
 * The environment a go-plugin host gives a plugin, as SPIRE does: its own
 * environment plus the cookie (`<Type>=<Type>`), the protocol versions it
 * offers, and go-plugin's default port range for TCP plugins (Windows).
 */
export function pluginEnvironment(type: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, [type]: type, PLUGIN_PROTOCOL_VERSIONS: "1", PLUGIN_MIN_PORT: "10000", PLUGIN_MAX_PORT: "25000" };
}

/** util-linux's setpriv gives the child a parent-death signal, which Node cannot set itself. */
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a plugin process and waits for its handshake line. Checks the file
 * first (exists, executable, checksum), so a bad block fails with a clear
 * reason before anything runs.
 */
export async function launchPlugin(options: LaunchOptions): Promise<LaunchedPlugin> {
  const { command, log } = options;
  checkFile(command);
  if (options.checksum !== undefined) verifyChecksum(command.file, options.checksum);

  const env = pluginEnvironment(options.type, options.env ?? process.env);
  const [file, args] = command.node
    ? [process.execPath, [command.file, ...command.args]]
    : [command.file, [...command.args]];
  const [exe, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", file, ...args]] : [file, args];

  const child = spawn(exe, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  const stderr = new LineTail();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const spawnFailed = new Promise<never>((_, reject) => {
    child.once("error", (err) => reject(new LaunchError(`failed to start ${command.file}: ${err.message}`)));
  });

  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    relayPluginLine(line, log);
  });

  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve) => lines.once("line", resolve));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LaunchError(`timeout after ${options.handshakeTimeoutMs} ms waiting for the plugin's handshake line`)),
      options.handshakeTimeoutMs,
    );
  });
  const exitedEarly = exited.then(async ({ code, signal }) => {
    await new Promise((r) => setTimeout(r, 20)); // let the last stderr lines arrive
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const said = stderr.summary();
    throw new LaunchError(`plugin exited before the handshake (${how})${said ? `: ${said}` : ""}`);
  });

  try {
    const line = await Promise.race([firstLine, timeout, exitedEarly, spawnFailed]);
    const handshake = parseHandshakeLine(line);
    // go-plugin hosts read and discard anything else printed on stdout.
    lines.on("line", (l) => log.log("debug", "Plugin wrote to stdout", { line: l }));
    return { child, handshake, stderr, exited };
  } catch (err) {
    child.kill("SIGKILL");
    if (err instanceof HandshakeError) throw new LaunchError(err.message);
    throw err;
  } finally {
    clearTimeout(timer);
    exitedEarly.catch(() => {});
    spawnFailed.catch(() => {});
  }
}

function checkFile(command: LaunchCommand): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(command.file);
  } catch {
    throw new LaunchError(`plugin executable ${JSON.stringify(command.file)} does not exist`);
  }
  if (!st.isFile()) throw new LaunchError(`plugin executable ${JSON.stringify(command.file)} is not a regular file`);
  if (command.node) return;
  try {
    accessSync(command.file, constants.X_OK);
  } catch {
    throw new LaunchError(`plugin executable ${JSON.stringify(command.file)} is not executable (check its mode bits)`);
  }
}

/** SHA-256 of the file against the configured checksum, compared in constant time. */
export function verifyChecksum(file: string, expectedHex: string): void {
  const expected = Buffer.from(expectedHex, "hex");
  const actual = createHash("sha256").update(readFileSync(file)).digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new LaunchError(
      `checksums did not match for ${JSON.stringify(file)}: configured ${expectedHex}, file has ${actual.toString("hex")}`,
    );
  }
}

/** Children die with the host on every exit path we can see (SIGKILL is covered by setpriv's parent-death signal). */
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of liveChildren) c.kill("SIGKILL");
  });
}
