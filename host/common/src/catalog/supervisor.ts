import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import {
  type AsyncClient,
  type BidiCall,
  type CallOptions,
  Code,
  RpcError,
  type ServiceDefinition,
  type ServiceRegistration,
  serviceNames,
} from "@signet/proto";
import { HealthService } from "@signet/proto/grpc/health/v1/health";
import type { Logger } from "../log/logger.js";
import { type BackoffPolicy, defaultBackoff, restartDelay } from "./backoff.js";
import { type ConfigCheck, checkConfig } from "./config-check.js";
import { HostServiceServer, type LaunchCommand, type LaunchedPlugin, PluginConnection, launchPlugin } from "@signet/plugin-protocol";

/** Everything needed to start (and restart) one plugin. */
export interface PluginSpec {
  readonly type: string;
  readonly name: string;
  readonly command: LaunchCommand;
  readonly checksum?: string;
  readonly data: { readonly kind: "none" } | { readonly kind: "inline"; readonly text: string } | { readonly kind: "file"; readonly path: string };
  /** The gRPC service the plugin must serve for its type, e.g. "spire.plugin.server.keymanager.v1.KeyManager". */
  readonly expectedServices: readonly string[];
  /** Services the plugin may also serve without a warning (e.g. the other side's half of its type). */
  readonly toleratedServices?: readonly string[];
  readonly trustDomain: string;
}

export interface SupervisorOptions {
  readonly log: Logger;
  /** Host services offered to this plugin (broker id 1). */
  readonly hostServices?: (plugin: { type: string; name: string }) => readonly ServiceRegistration[];
  readonly handshakeTimeoutMs?: number;
  /** Deadline for Init, Configure and Validate. */
  readonly setupTimeoutMs?: number;
  /** Default deadline of a unary call made through `client()` when the caller sets none. */
  readonly callTimeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  /** Health probes that catch a hung plugin; false turns them off. */
  readonly liveness?: { readonly intervalMs: number; readonly timeoutMs: number; readonly failures: number } | false;
  /** After Shutdown, how long to wait before SIGTERM, and then before SIGKILL. */
  readonly stopGraceMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export type PluginState = "new" | "starting" | "ready" | "restarting" | "stopping" | "stopped";

interface Running {
  readonly launched: LaunchedPlugin;
  readonly connection: PluginConnection;
  readonly hostServer: HostServiceServer;
  readonly startedAt: number;
  readonly clients: Map<ServiceDefinition, AsyncClient<ServiceDefinition>>;
  livenessTimer?: NodeJS.Timeout;
}

/**
 * One plugin process under supervision. SPIRE loads a plugin once and leaves
 * a crashed one dead; here a crash or a hang leads to a restart with
 * backoff and the same configuration, and calls made meanwhile fail at once
 * with Unavailable instead of hanging. The host never crashes with a plugin.
 */
export class ManagedPlugin extends EventEmitter {
  readonly type: string;
  readonly name: string;
  private stateValue: PluginState = "new";
  private running: Running | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastExit = "";
  private readonly log: Logger;
  private readonly prefix: string;

  constructor(
    readonly spec: PluginSpec,
    private readonly options: SupervisorOptions,
  ) {
    super();
    this.type = spec.type;
    this.name = spec.name;
    this.log = options.log.with({ plugin_type: spec.type, plugin_name: spec.name, subsystem_name: "catalog" });
    this.prefix = `${spec.type.toLowerCase()}(${spec.name}): `;
  }

  get state(): PluginState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.running?.launched.child.pid;
  }

  /** Names the plugin answered at Init (empty until started). */
  get services(): ReadonlySet<string> {
    return this.running?.connection.pluginServices ?? new Set();
  }

  /** First start: any failure is thrown (the host refuses to start, as SPIRE does). */
  async start(): Promise<void> {
    this.setState("starting");
    try {
      this.running = await this.bringUp();
    } catch (e) {
      this.setState("stopped");
      throw e;
    }
    this.setState("ready");
    this.log.info("Plugin loaded", { pid: this.pid });
  }

  /**
   * Validate only (`validate` commands): launch, Init, Config.Validate in
   * place of Configure, stop. A plugin that cannot start throws, as at
   * load; everything else about its configuration comes back as notes.
   */
  async validateOnly(): Promise<ConfigCheck> {
    this.setState("starting");
    let r: Running;
    try {
      r = await this.bringUp({ configure: false });
    } catch (e) {
      this.setState("stopped");
      throw e;
    }
    // Never `this.running`: a process that dies meanwhile is not restarted (its call fails, which is the note).
    try {
      return await checkConfig(r.connection, this.spec, this.setupTimeout());
    } finally {
      this.setState("stopping");
      await this.tearDown(r, true);
      this.setState("stopped");
    }
  }

  /** Re-reads a plugin_data_file and calls Configure; the old config stays if it fails. */
  async reconfigure(): Promise<void> {
    const r = this.requireRunning();
    if (!r.connection.hasConfig()) return;
    await r.connection.configure(this.spec.trustDomain, this.configText(), this.setupTimeout()).catch((e) => {
      throw this.prefixed(e);
    });
  }

  /**
   * A client whose calls go to whichever process is current. While the
   * plugin is down they fail at once with Unavailable; errors carry the
   * `<type>(<name>): ` prefix SPIRE's facades add.
   */
  client<S extends ServiceDefinition>(definition: S): AsyncClient<S> {
    const out: Record<string, unknown> = {};
    for (const [key, method] of Object.entries(definition)) {
      if (!method.requestStream && !method.responseStream) out[key] = this.proxyUnary(definition, key);
      else if (!method.requestStream) out[key] = this.proxyServerStream(definition, key);
      else if (!method.responseStream) out[key] = this.proxyUnary(definition, key);
      else out[key] = this.proxyBidi(definition, key);
    }
    return out as AsyncClient<S>;
  }

  async stop(): Promise<void> {
    if (this.stateValue === "stopped" && !this.running) return;
    this.setState("stopping");
    clearTimeout(this.restartTimer);
    const r = this.running;
    this.running = undefined;
    if (r) await this.tearDown(r, true);
    this.setState("stopped");
  }

  // ---- lifecycle ----

  private async bringUp(opts: { configure: boolean } = { configure: true }): Promise<Running> {
    const { spec } = this;
    const launched = await launchPlugin({
      type: spec.type,
      command: spec.command,
      ...(spec.checksum !== undefined ? { checksum: spec.checksum } : {}),
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 60_000,
      log: this.log,
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    const hostServer = await HostServiceServer.start(
      this.options.hostServices?.({ type: spec.type, name: spec.name }) ?? [],
      `${spec.type}-${spec.name}`,
    );
    const connection = new PluginConnection(launched.handshake, this.log);
    const running: Running = { launched, connection, hostServer, startedAt: Date.now(), clients: new Map() };
    try {
      const served = await connection.initialize(hostServer, this.setupTimeout());
      this.bind(served);
      if (opts.configure) await this.configure(connection);
    } catch (e) {
      await this.tearDown(running, false);
      throw this.prefixed(e);
    }
    launched.exited.then((how) => this.onExit(running, how));
    if (opts.configure) this.startLiveness(running);
    return running;
  }

  private bind(served: ReadonlySet<string>): void {
    const want = this.spec.expectedServices;
    if (!want.some((s) => served.has(s))) {
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `no supported plugin interface found in: [${[...served].join(" ")}] (a ${this.type} plugin must serve ${want.join(" or ")})`,
      );
    }
    const known = new Set([...want, ...(this.spec.toleratedServices ?? []), serviceNames.config]);
    for (const name of served) {
      if (!known.has(name)) this.log.warn("Unsupported plugin service found", { service: name });
    }
  }

  private async configure(connection: PluginConnection): Promise<void> {
    const text = this.configText();
    if (connection.hasConfig()) {
      await connection.configure(this.spec.trustDomain, text, this.setupTimeout());
    } else if (this.spec.data.kind !== "none") {
      throw new RpcError(Code.FAILED_PRECONDITION, "plugin_data was given but the plugin has no configuration interface");
    }
  }

  private configText(): string {
    const { data } = this.spec;
    if (data.kind === "inline") return data.text;
    if (data.kind === "file") {
      try {
        return readFileSync(data.path, "utf8");
      } catch (e) {
        throw new RpcError(Code.INVALID_ARGUMENT, `cannot read plugin_data_file ${JSON.stringify(data.path)}: ${(e as Error).message}`);
      }
    }
    return "";
  }

  private onExit(running: Running, how: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.running !== running) return; // expected: stop() or a replaced process
    this.running = undefined;
    this.lastExit = how.signal ? `killed by ${how.signal}` : `exit code ${how.code}`;
    const said = running.launched.stderr.summary();
    this.log.error("Plugin process exited unexpectedly", {
      how: this.lastExit,
      ...(said ? { last_output: said } : {}),
    });
    void this.tearDown(running, false);
    if (Date.now() - running.startedAt >= (this.options.backoff ?? defaultBackoff).resetAfterMs) this.failures = 0;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.setState("restarting");
    const delay = restartDelay(this.options.backoff ?? defaultBackoff, this.failures);
    this.failures++;
    this.log.info("Restarting plugin", { delay_ms: delay, attempt: this.failures });
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.stateValue !== "restarting") return;
    try {
      const r = await this.bringUp();
      if (this.stateValue !== "restarting") {
        await this.tearDown(r, true);
        return;
      }
      this.running = r;
      this.setState("ready");
      this.log.info("Plugin restarted", { pid: this.pid });
    } catch (e) {
      this.lastExit = (e as Error).message;
      this.log.error("Plugin restart failed", { error: (e as Error).message });
      if (this.stateValue === "restarting") this.scheduleRestart();
    }
  }

  private startLiveness(r: Running): void {
    const cfg = this.options.liveness ?? { intervalMs: 10_000, timeoutMs: 5_000, failures: 3 };
    if (cfg === false) return;
    let misses = 0;
    const health = r.connection.client(HealthService);
    r.livenessTimer = setInterval(() => {
      health.check({ service: "plugin" }, { deadline: cfg.timeoutMs }).then(
        () => {
          misses = 0;
        },
        (e: RpcError) => {
          if (e.code === Code.UNIMPLEMENTED || e.code === Code.NOT_FOUND) {
            clearInterval(r.livenessTimer); // no health service: nothing to probe
            return;
          }
          misses++;
          if (misses >= cfg.failures && this.running === r) {
            this.log.error("Plugin is not responding; killing it for a restart", { missed_probes: misses });
            r.launched.child.kill("SIGKILL");
          }
        },
      );
    }, cfg.intervalMs);
    r.livenessTimer.unref();
  }

  private async tearDown(r: Running, graceful: boolean): Promise<void> {
    clearInterval(r.livenessTimer);
    const { child } = r.launched;
    const alive = () => child.exitCode === null && child.signalCode === null;
    if (graceful && alive()) {
      await r.connection.shutdown(10_000);
      const grace = this.options.stopGraceMs ?? 2_000;
      if (!(await exitsWithin(r, grace))) {
        this.log.warn("Plugin did not exit after Shutdown; sending SIGTERM");
        child.kill("SIGTERM");
        if (!(await exitsWithin(r, grace))) {
          this.log.warn("Plugin failed to exit gracefully; sending SIGKILL");
          child.kill("SIGKILL");
          await r.launched.exited;
        }
      }
    } else if (alive()) {
      child.kill("SIGKILL");
    }
    r.connection.close();
    await r.hostServer.stop();
  }

  // ---- calls ----

  private current<S extends ServiceDefinition>(definition: S): AsyncClient<S> {
    const r = this.running;
    if (!r || this.stateValue !== "ready") {
      const why = this.stateValue === "restarting" ? `plugin is restarting (last: ${this.lastExit})` : `plugin is ${this.stateValue}`;
      throw new RpcError(Code.UNAVAILABLE, `${this.prefix}${why}`);
    }
    let c = r.clients.get(definition);
    if (!c) {
      c = r.connection.client(definition) as AsyncClient<ServiceDefinition>;
      r.clients.set(definition, c);
    }
    return c as AsyncClient<S>;
  }

  private withDefaults(options: CallOptions | undefined): CallOptions {
    if (options?.deadline !== undefined) return options;
    return { ...options, deadline: this.options.callTimeoutMs ?? 30_000 };
  }

  private proxyUnary(definition: ServiceDefinition, key: string) {
    return async (request: unknown, options?: CallOptions) => {
      const method = this.current(definition)[key] as unknown as (r: unknown, o?: CallOptions) => Promise<unknown>;
      try {
        return await method(request, this.withDefaults(options));
      } catch (e) {
        throw this.prefixed(e);
      }
    };
  }

  private proxyServerStream(definition: ServiceDefinition, key: string) {
    const self = this;
    return (request: unknown, options?: CallOptions) =>
      (async function* () {
        const method = self.current(definition)[key] as unknown as (r: unknown, o?: CallOptions) => AsyncIterable<unknown>;
        try {
          yield* method(request, options);
        } catch (e) {
          throw self.prefixed(e);
        }
      })();
  }

  private proxyBidi(definition: ServiceDefinition, key: string) {
    return (options?: CallOptions): BidiCall<unknown, unknown> => {
      let call: BidiCall<unknown, unknown>;
      try {
        call = (this.current(definition)[key] as unknown as (o?: CallOptions) => BidiCall<unknown, unknown>)(options);
      } catch (e) {
        const err = e;
        return {
          send: () => {},
          end: () => {},
          cancel: () => {},
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
        };
      }
      const self = this;
      return {
        send: (m) => call.send(m),
        end: () => call.end(),
        cancel: () => call.cancel(),
        [Symbol.asyncIterator]: () =>
          (async function* () {
            try {
              yield* call;
            } catch (e) {
              throw self.prefixed(e);
            }
          })(),
      };
    };
  }

  private prefixed(e: unknown): Error {
    if (e instanceof RpcError) {
      if (e.message.startsWith(this.prefix)) return e;
      return new RpcError(e.code, `${this.prefix}${e.message}`, e.metadata);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    if (!err.message.startsWith(this.prefix)) err.message = `${this.prefix}${err.message}`;
    return err;
  }

  private requireRunning(): Running {
    if (!this.running) throw new RpcError(Code.UNAVAILABLE, `${this.prefix}plugin is ${this.stateValue}`);
    return this.running;
  }

  private setupTimeout(): number {
    return this.options.setupTimeoutMs ?? 30_000;
  }

  private setState(s: PluginState): void {
    this.stateValue = s;
    this.emit("state", s);
  }
}

async function exitsWithin(r: Running, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([r.launched.exited.then(() => true as const), t]);
  clearTimeout(timer);
  return done;
}
