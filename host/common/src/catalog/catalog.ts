import type { Logger } from "../log/logger.js";
import { extensionServices, otherSideService, type Side, serviceForType } from "./plugin-types.js";
import { type PluginSource, resolvePluginCommand } from "./resolve.js";
import type { ConfigCheck } from "./config-check.js";
import { ManagedPlugin, type PluginSpec, type SupervisorOptions } from "./supervisor.js";

/** A plugin's verdict from `Catalog.validate`. */
export interface PluginValidation extends ConfigCheck {
  readonly type: string;
  readonly name: string;
}

/** One plugin block, as parsed from the `plugins { … }` section. */
export interface PluginRequest {
  readonly type: string;
  readonly name: string;
  readonly source: PluginSource;
  readonly args: readonly string[];
  readonly checksum?: string;
  readonly data: PluginSpec["data"];
}

export interface CatalogOptions extends Omit<SupervisorOptions, "log"> {
  readonly side: Side;
  readonly trustDomain: string;
  readonly log: Logger;
  /** Where `plugin_package` and built-in packages are looked up. */
  readonly searchFrom?: readonly string[];
}

export class CatalogError extends Error {
  override readonly name = "CatalogError";
  constructor(readonly failures: readonly { type: string; name: string; error: Error }[]) {
    super(
      failures.length === 1
        ? `failed to load plugin ${label(failures[0]!)}: ${failures[0]!.error.message}`
        : `failed to load ${failures.length} plugins:\n${failures.map((f) => `  ${label(f)}: ${f.error.message}`).join("\n")}`,
    );
  }
}

function label(p: { type: string; name: string }): string {
  return `${p.type} "${p.name}"`;
}

/**
 * The set of plugins a host runs. Knows nothing about any particular plugin
 * type beyond the service it must serve: typed facades sit on top.
 */
export class Catalog {
  private constructor(
    private readonly plugins: readonly ManagedPlugin[],
    private readonly log: Logger,
  ) {}

  /**
   * Resolves and starts every plugin in parallel. If any fails, the ones
   * already started are stopped and every failure is reported at once.
   */
  static async load(requests: readonly PluginRequest[], options: CatalogOptions): Promise<Catalog> {
    const plugins = Catalog.supervise(requests, options);
    const failures: { type: string; name: string; error: Error }[] = [];
    const results = await Promise.allSettled(plugins.map((p) => p.start()));
    results.forEach((r, i) => {
      if (r.status === "rejected") failures.push({ type: plugins[i]!.type, name: plugins[i]!.name, error: r.reason as Error });
    });
    if (failures.length > 0) {
      await Promise.allSettled(plugins.map((p) => p.stop()));
      throw new CatalogError(failures);
    }
    return new Catalog(plugins, options.log);
  }

  /**
   * For `validate`: starts every plugin in parallel, asks each to validate
   * its configuration (Config.Validate, never Configure) and stops it. A
   * plugin that cannot start fails the whole call with every such failure,
   * as `load` does; verdicts come back in request order.
   */
  static async validate(requests: readonly PluginRequest[], options: CatalogOptions): Promise<PluginValidation[]> {
    const plugins = Catalog.supervise(requests, options);
    const failures: { type: string; name: string; error: Error }[] = [];
    const results = await Promise.allSettled(plugins.map((p) => p.validateOnly()));
    const verdicts: PluginValidation[] = [];
    results.forEach((r, i) => {
      const { type, name } = plugins[i]!;
      if (r.status === "rejected") failures.push({ type, name, error: r.reason as Error });
      else verdicts.push({ type, name, ...r.value });
    });
    if (failures.length > 0) throw new CatalogError(failures);
    return verdicts;
  }

  /** One supervisor per request; a request that names no runnable plugin fails them all. */
  private static supervise(requests: readonly PluginRequest[], options: CatalogOptions): ManagedPlugin[] {
    const failures: { type: string; name: string; error: Error }[] = [];
    const plugins: ManagedPlugin[] = [];
    for (const req of requests) {
      try {
        plugins.push(new ManagedPlugin(specFor(req, options), { ...options, log: options.log }));
      } catch (e) {
        failures.push({ type: req.type, name: req.name, error: e as Error });
      }
    }
    if (failures.length > 0) throw new CatalogError(failures);
    return plugins;
  }

  /** All loaded plugins of a type, in declaration order. */
  ofType(type: string): readonly ManagedPlugin[] {
    return this.plugins.filter((p) => p.type === type);
  }

  get(type: string, name: string): ManagedPlugin | undefined {
    return this.plugins.find((p) => p.type === type && p.name === name);
  }

  all(): readonly ManagedPlugin[] {
    return this.plugins;
  }

  /** SIGUSR1: plugins configured from plugin_data_file get Configure again; failures keep the old config. */
  async reconfigure(): Promise<void> {
    await Promise.all(
      this.plugins
        .filter((p) => p.spec.data.kind === "file")
        .map((p) =>
          p.reconfigure().then(
            () => this.log.info("Plugin reconfigured", { plugin_type: p.type, plugin_name: p.name }),
            (e: Error) => this.log.error("Plugin reconfiguration failed; keeping the previous configuration", { plugin_type: p.type, plugin_name: p.name, error: e.message }),
          ),
        ),
    );
  }

  /** Stops every plugin (Deinit, Shutdown, then signals), in reverse declaration order as SPIRE does. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.plugins].reverse().map((p) => p.stop()));
  }
}

function specFor(req: PluginRequest, options: CatalogOptions): PluginSpec {
  const service = serviceForType(options.side, req.type);
  if (!service) throw new Error(`unsupported plugin type "${req.type}" for the ${options.side}`);
  const other = otherSideService(options.side, req.type);
  const command = resolvePluginCommand(req.source, {
    type: req.type,
    name: req.name,
    side: options.side,
    args: req.args,
    ...(options.searchFrom ? { searchFrom: options.searchFrom } : {}),
  });
  return {
    type: req.type,
    name: req.name,
    command,
    ...(req.checksum !== undefined ? { checksum: req.checksum } : {}),
    data: req.data,
    expectedServices: [service],
    toleratedServices: [...(other ? [other] : []), ...(extensionServices[req.type] ?? [])],
    trustDomain: options.trustDomain,
  };
}
