import { randomInt } from "node:crypto";
import { chmodSync, chownSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setLogger, setLogVerbosity, logVerbosity } from "@grpc/grpc-js";
import { H2Server, type ServiceRegistration } from "@signet/proto";
import { type Logger, createLogger } from "../log/logger.js";
import {
  Broker,
  StdioRelay,
  controllerService,
  handshakeLine,
  hasCookie,
  healthService,
  negotiateAppVersion,
  notLaunchedByHostMessage,
  watchParent,
} from "@signet/plugin-protocol";
import { type InitHooks, initService } from "./init.js";

/** Plugin types a SPIRE or Signet host can load; the name is also the go-plugin cookie. */
export type PluginType =
  | "KeyManager"
  | "NodeAttestor"
  | "WorkloadAttestor"
  | "UpstreamAuthority"
  | "DataStore"
  | "Notifier"
  | "BundlePublisher"
  | "CredentialComposer"
  | "SVIDStore";

export interface ServeOptions extends InitHooks {
  /** The plugin type, which is also the cookie the host sets (e.g. KeyManager=KeyManager). */
  readonly type: PluginType;
  /** The type's service, e.g. from `keyManager.server(impl)`. */
  readonly plugin: ServiceRegistration;
  /** Further services, typically `configService(…)`. */
  readonly services?: readonly ServiceRegistration[];
  /** Logger for the SDK's own lines; defaults to hclog-style JSON on stderr. */
  readonly logger?: Logger;
}

export interface RunningPlugin {
  readonly socketPath: string;
  /** Stops serving and exits the process, as a host's Shutdown call does. */
  stop(): void;
}

/**
 * Runs a plugin the way a go-plugin host (SPIRE or Signet) expects: checks
 * the cookie, listens on a Unix socket, prints the handshake line, serves the
 * go-plugin internals, Init, health, the plugin's services, and exits when
 * asked to (Shutdown, SIGTERM) or when its host is gone.
 */
export async function serve(options: ServeOptions): Promise<RunningPlugin> {
  const program = basename(process.argv[1] ?? "plugin");
  if (!hasCookie(options.type, process.env)) {
    process.stderr.write(`${notLaunchedByHostMessage(options.type, program)}\n`);
    process.exit(1);
  }
  const log = options.logger ?? createLogger();
  // grpc-js prints its own "E …" lines on stderr; keep stderr all JSON for the host.
  setLogVerbosity(logVerbosity.ERROR);
  setLogger({ error: (...args: unknown[]) => log.debug("grpc-js", { detail: args.map(String).join(" ") }) });
  // Node prints process warnings (deprecations, a library's "this Node version" notice) as plain
  // text on stderr; as log lines instead, so the host reads only JSON.
  process.removeAllListeners("warning");
  process.on("warning", (w: Error & { code?: string }) => log.warn(w.message, { warning: w.name, ...(w.code ? { code: w.code } : {}) }));
  const appVersion = negotiateAppVersion(process.env);

  const broker = new Broker();
  const stdio = new StdioRelay();
  const served = [options.plugin, ...(options.services ?? [])];
  let stopping = false;
  const socketPath = join(process.env.PLUGIN_UNIX_SOCKET_DIR || tmpdir(), `plugin${randomInt(1e9, 1e10)}`);

  const stop = () => {
    if (stopping) return;
    stopping = true;
    stdio.close();
    const done = () => {
      rmSync(socketPath, { force: true });
      process.exit(0);
    };
    const force = setTimeout(() => {
      server.forceShutdown();
      done();
    }, 1_500);
    server.tryShutdown(() => {
      clearTimeout(force);
      done();
    });
  };

  const registrations = [
    broker.registration,
    controllerService(stop),
    stdio.registration,
    healthService(),
    initService(served, broker, options, log),
    ...served,
  ];
  // A lean gRPC server on node:http2: grpc-js's server machinery cost a plugin more CPU per call than its work.
  // The host is a plugin's only caller, and large messages are normal (DataStore pages): no limit, as go-plugin.
  const server = new H2Server(registrations, { maxReceiveMessageBytes: Number.POSITIVE_INFINITY });

  try {
    await server.listen(socketPath);
    applySocketGroup(socketPath, process.env.PLUGIN_UNIX_SOCKET_GROUP, log);
  } catch (e) {
    // Nothing is on stdout yet, so the host reports "exited before the handshake" with this line.
    log.error("Plugin failed to start", { error: `cannot listen on ${socketPath}: ${(e as Error).message}` });
    process.exit(1);
  }

  process.stdout.write(handshakeLine("unix", socketPath, appVersion));
  stdio.captureStdout();

  // go-plugin plugins ignore SIGINT: a Ctrl-C at the host's terminal reaches
  // the whole process group, and the host decides when plugins stop.
  process.on("SIGINT", () => log.debug("Ignoring SIGINT; the host stops plugins"));
  process.on("SIGTERM", stop);
  watchParent(() => {
    log.warn("Host process exited; stopping plugin");
    stop();
  });
  return { socketPath, stop };
}

/** PLUGIN_UNIX_SOCKET_GROUP (go-plugin >= 1.5): group-own the socket and make it 0660. */
function applySocketGroup(socketPath: string, group: string | undefined, log: Logger): void {
  if (!group) return;
  const gid = /^\d+$/.test(group) ? Number(group) : lookupGroup(group);
  if (gid === undefined) {
    log.warn("PLUGIN_UNIX_SOCKET_GROUP names an unknown group; leaving socket ownership alone", { group });
    return;
  }
  chownSync(socketPath, -1, gid);
  chmodSync(socketPath, 0o660);
}

function lookupGroup(name: string): number | undefined {
  try {
    for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
      const [groupName, , gid] = line.split(":");
      if (groupName === name && gid) return Number(gid);
    }
  } catch {
    // no /etc/group: treat as unknown
  }
  return undefined;
}
