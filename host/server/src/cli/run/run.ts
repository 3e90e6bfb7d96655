/**
 * `run`: parse SPIRE's run flags, load server.conf and run the server until
 * SIGINT/SIGTERM. The daemon is loaded lazily so the API commands start fast
 * and do not pull in the server's dependencies.
 */
import { type CliEnv, type Command, errorText, parseFlags } from "@signet/host-common";
import type { ServerConfig } from "../../config/server-config.js";
import { missingConfigError, runFlagSet } from "./flags.js";

/** What the CLI needs of server.ts: runServer (runs until stopped), or startServer and a stop signal. */
interface ServerModule {
  runServer?(config: ServerConfig): Promise<void>;
  startServer?(config: ServerConfig): Promise<{ stop(): Promise<void>; readonly stopped: Promise<void> }>;
}
interface LoadModule {
  loadServerConfig(path: string, options: { expandEnv?: boolean; flags?: object }): Promise<ServerConfig>;
}

// Specifiers in variables: the daemon modules are written alongside the CLI and resolved at run time.
const serverModule = "../../server.js";
const loadModule = "../../config/load.js";

export async function importLoader(): Promise<LoadModule> {
  return (await import(loadModule)) as LoadModule;
}

export const run: Command = {
  name: "run",
  synopsis: "Runs the server",
  help: () => `${runFlagSet("run").fs.usage()}flag: help requested\n`,
  async run(args: readonly string[], env: CliEnv): Promise<number> {
    const { fs, result } = runFlagSet("run");
    const parsed = parseFlags(fs, args, env);
    if (parsed !== 0) return parsed;
    const flags = result();
    const missing = await missingConfigError(flags.configPath);
    if (missing) {
      env.stderr(`${missing}\n`);
      return 1;
    }
    let config: ServerConfig;
    try {
      const { loadServerConfig } = await importLoader();
      config = await loadServerConfig(flags.configPath, { expandEnv: flags.expandEnv, flags: flags.overrides });
    } catch (e) {
      env.stderr(`${errorText(e)}\n`);
      return 1;
    }
    let server: ServerModule;
    try {
      server = (await import(serverModule)) as ServerModule;
      if (typeof server.runServer !== "function" && typeof server.startServer !== "function") {
        throw new Error("the server module exports neither runServer nor startServer");
      }
    } catch (e) {
      env.stderr(`signet-server: the server daemon is not available in this build: ${errorText(e)}\n`);
      return 1;
    }
    // SPIRE's SetUmask: files the server creates are never group-writable or world-accessible.
    process.umask(process.umask() | 0o027);
    try {
      if (server.runServer) await server.runServer(config);
      else await runUntilSignalled(server.startServer!.bind(server), config);
      return 0;
    } catch (e) {
      env.stderr(`Server crashed: ${errorText(e)}\n`);
      return 1;
    }
  },
};

/** Starts the server and stops it on SIGINT/SIGTERM, as SPIRE's run does with signal.NotifyContext. */
async function runUntilSignalled(
  start: NonNullable<ServerModule["startServer"]>,
  config: ServerConfig,
): Promise<void> {
  const running = await start(config);
  const stop = () => void running.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await running.stopped;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
