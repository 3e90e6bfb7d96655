/**
 * Runs the plugin under test as a real process, the way a host does: through
 * @signet/plugin-protocol (cookie in the environment, handshake line, broker
 * with host services as id 1, Init, Configure), so every check talks to the
 * program exactly as SPIRE or Signet would.
 */
import { type AsyncClient, type ServiceDefinition } from "@signet/proto";
import { ConfigService, type ValidateResponse } from "@signet/proto/spire/service/common/config/v1/config";
import {
  HostServiceServer,
  type LaunchedPlugin,
  PluginConnection,
  type ProtocolLog,
  launchPlugin,
} from "@signet/plugin-protocol";
import { ConformanceError } from "./assert.js";
import { type ResolvedPlugin, configText } from "./plugin.js";
import { withTimeout } from "./suite.js";

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What stopping a session saw: how the process ended and whether it needed SIGKILL. */
export interface StopResult extends ExitInfo {
  /** Milliseconds from the end of the Shutdown call to the exit; undefined if the process had to be killed. */
  readonly exitAfterShutdownMs: number | undefined;
}

export interface LaunchOptions {
  /** Configure after Init (default true; skipped for plugins that are not configurable). */
  readonly configure?: boolean;
  /** The configuration text; default: the plugin's good configuration (a fresh one if it is a function). */
  readonly config?: string;
}

/** How long a process gets to exit after Shutdown before it is killed, as in SPIRE. */
export const shutdownGraceMs = 2_000;

/** One running plugin process with its host-side connection. */
export class PluginSession {
  private exitInfo: ExitInfo | undefined;

  constructor(
    private readonly launched: LaunchedPlugin,
    readonly connection: PluginConnection,
    private readonly hostServer: HostServiceServer,
    private readonly plugin: ResolvedPlugin,
    /** Service names the plugin answered in Init. */
    readonly services: ReadonlySet<string>,
    /** The configuration text it was configured with ("" if none). */
    readonly config: string,
  ) {
    void launched.exited.then((how) => {
      this.exitInfo = how;
    });
  }

  get pid(): number {
    return this.launched.child.pid ?? -1;
  }

  get exited(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** Resolves when the process has exited. */
  get whenExited(): Promise<ExitInfo> {
    return this.launched.exited;
  }

  client<S extends ServiceDefinition>(definition: S): AsyncClient<S> {
    return this.connection.client(definition) as AsyncClient<S>;
  }

  async configure(text: string): Promise<void> {
    await this.connection.configure(this.plugin.trustDomain, text, this.plugin.callTimeoutMs);
  }

  /** Validate as sent on the wire (Unimplemented is an error here, not "no opinion"). */
  async validate(text: string): Promise<ValidateResponse> {
    return this.client(ConfigService).validate(
      { coreConfiguration: { trustDomain: this.plugin.trustDomain }, hclConfiguration: text },
      { deadline: this.plugin.callTimeoutMs },
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.launched.child.kill(signal);
  }

  /** The plugin's last stderr lines, reduced to their messages. */
  stderrSummary(): string {
    return this.launched.stderr.summary(5);
  }

  /** What a failure message should add when the process is gone. */
  describeExit(): string | undefined {
    const how = this.exitInfo;
    if (!how) return undefined;
    const said = this.stderrSummary();
    return `the plugin process (pid ${this.pid}) ${how.signal ? `was killed by ${how.signal}` : `exited with code ${how.code}`}${said ? `; it last said: ${said}` : ""}`;
  }

  /** Unloads as SPIRE does: Deinit, close the broker, Shutdown, wait up to 2 s, then SIGKILL. */
  async stop(graceMs = shutdownGraceMs): Promise<StopResult> {
    if (this.exitInfo) {
      this.release();
      return { ...this.exitInfo, exitAfterShutdownMs: undefined };
    }
    await this.connection.shutdown(10_000);
    const t0 = Date.now();
    const graceful = await withTimeout(this.launched.exited, graceMs, "").catch(() => undefined);
    const exitAfterShutdownMs = graceful ? Date.now() - t0 : undefined;
    if (!graceful) this.launched.child.kill("SIGKILL");
    const how = graceful ?? (await this.launched.exited);
    this.release();
    return { ...how, exitAfterShutdownMs };
  }

  /** Ends the process at once (teardown after a failed check). */
  async kill(): Promise<void> {
    if (!this.exitInfo) this.launched.child.kill("SIGKILL");
    await this.launched.exited;
    this.release();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.connection.close();
    void this.hostServer.stop();
  }
}

/**
 * Starts and tracks the processes of one suite: a shared, configured session
 * for checks that can share one, and fresh ones for checks that need a clean
 * or disposable process. `close()` ends them all.
 */
export class PluginHarness {
  private readonly sessions = new Set<PluginSession>();
  private sharedSession: Promise<PluginSession> | undefined;
  /** Protocol-level log lines (launch, relay of plugin stderr), kept for failure messages. */
  private readonly logLines: string[] = [];
  private readonly log: ProtocolLog = {
    log: (level, message, fields) => {
      this.logLines.push(`${level} ${message}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""}`);
      if (this.logLines.length > 200) this.logLines.shift();
    },
  };

  constructor(readonly plugin: ResolvedPlugin) {}

  /** The session most checks use: launched, initialized and configured once, on first use. */
  shared(): Promise<PluginSession> {
    this.sharedSession ??= this.launch().catch((e: unknown) => {
      throw new ConformanceError(`could not start the shared plugin process: ${(e as Error).message}`);
    });
    return this.sharedSession;
  }

  /** A new process: launched, Init done, and configured unless told otherwise. */
  async launch(options: LaunchOptions = {}): Promise<PluginSession> {
    const { plugin } = this;
    const configure = (options.configure ?? true) && plugin.configurable;
    const config = options.config ?? (configure ? await configText(plugin) : "");
    const launched = await launchPlugin({
      type: plugin.type,
      command: { file: plugin.file, node: plugin.node, args: plugin.args },
      handshakeTimeoutMs: plugin.handshakeTimeoutMs,
      log: this.log,
      env: { ...process.env, ...plugin.env },
    });
    let hostServer: HostServiceServer | undefined;
    let connection: PluginConnection | undefined;
    try {
      hostServer = await HostServiceServer.start(plugin.hostServices ?? [], `conformance-${plugin.type}`);
      connection = new PluginConnection(launched.handshake, this.log);
      const services = await connection.initialize(hostServer, plugin.callTimeoutMs);
      const session = new PluginSession(launched, connection, hostServer, plugin, services, configure ? config : "");
      this.sessions.add(session);
      if (configure) {
        await session.configure(config).catch((e: unknown) => {
          throw new ConformanceError(`Configure with the good configuration failed: ${(e as Error).message}`);
        });
      }
      return session;
    } catch (e) {
      launched.child.kill("SIGKILL");
      connection?.close();
      await hostServer?.stop();
      throw e;
    }
  }

  /** Stops every process this harness started (gracefully, but without waiting long for stragglers). */
  async close(): Promise<void> {
    const all = [...this.sessions];
    this.sessions.clear();
    this.sharedSession = undefined;
    await Promise.all(all.map((s) => s.stop(500).catch(() => s.kill())));
  }

  /** Waits up to `ms` for any of this harness's processes to exit (to explain a failure). */
  async settle(ms: number): Promise<void> {
    const running = [...this.sessions].filter((s) => s.exited === undefined);
    if (!running.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ...running.map((s) => s.whenExited),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /** A note on every process of this harness that died, for failure messages. */
  describeDeaths(): string | undefined {
    const notes = [...this.sessions].map((s) => s.describeExit()).filter((n): n is string => n !== undefined);
    return notes.length ? notes.join("; ") : undefined;
  }

  /** Recent protocol log lines (including the plugin's relayed stderr). */
  recentLog(n = 20): string {
    return this.logLines.slice(-n).join("\n");
  }
}
