/**
 * How a plugin author describes the program under test: where it is, how to
 * configure it well and badly, and which side(s) it serves.
 */
import type { ServiceRegistration } from "@signet/proto";
import type { PluginType } from "../serve/serve.js";

export type Side = "server" | "agent";

/** A configuration the plugin must refuse, with what its error should say. */
export interface BadConfig {
  /** Shown in the check's name, e.g. "unknown key". */
  readonly name: string;
  readonly text: string;
  /** The error message must match (a RegExp) or contain (a string) this. */
  readonly message?: RegExp | string;
}

export interface PluginUnderTest {
  /** The plugin type, which is also the cookie a host sets (KeyManager=KeyManager). */
  readonly type: PluginType;
  /** The program: a bundled plugin (`dist/plugin.mjs`) or any go-plugin executable, e.g. a stock SPIRE plugin. */
  readonly file: string;
  /** Run `file` with this Node rather than exec it; default: true for .js/.mjs/.cjs files. */
  readonly node?: boolean;
  readonly args?: readonly string[];
  /** Added to the environment the plugin inherits. */
  readonly env?: Readonly<Record<string, string>>;
  /** Sides the plugin serves (package.json "signet.sides"); defaults to the type's usual side. */
  readonly sides?: readonly Side[];
  /** Full gRPC service names Init must answer; defaults from `type` and `sides`. */
  readonly serviceNames?: readonly string[];
  /** Whether the plugin serves the Config service; default true. */
  readonly configurable?: boolean;
  /** Trust domain sent with Configure/Validate; default "example.org". */
  readonly trustDomain?: string;
  /**
   * A configuration the plugin accepts (default ""). A function is called once
   * for every process that needs a clean state (e.g. a fresh key directory);
   * a restart check reuses one value for both processes.
   */
  readonly config?: string | (() => string | Promise<string>);
  /** Configurations the plugin must refuse with InvalidArgument. */
  readonly badConfigs?: readonly BadConfig[];
  /** Host services offered through the broker (SPIRE offers Metrics, and on servers AgentStore and IdentityProvider). */
  readonly hostServices?: readonly ServiceRegistration[];
  /** The host's handshake timeout (SPIRE and Signet: 1 minute). */
  readonly handshakeTimeoutMs?: number;
  /** Deadline of each RPC a check makes (SPIRE gives KeyManager calls 30 s). */
  readonly callTimeoutMs?: number;
}

/** Where each plugin type's service lives; SPIRE's names, plus Signet's DataStore. */
const serviceNamesByType: Readonly<Record<string, Partial<Record<Side, string>>>> = {
  KeyManager: {
    server: "spire.plugin.server.keymanager.v1.KeyManager",
    agent: "spire.plugin.agent.keymanager.v1.KeyManager",
  },
  NodeAttestor: {
    server: "spire.plugin.server.nodeattestor.v1.NodeAttestor",
    agent: "spire.plugin.agent.nodeattestor.v1.NodeAttestor",
  },
  WorkloadAttestor: { agent: "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor" },
  SVIDStore: { agent: "spire.plugin.agent.svidstore.v1.SVIDStore" },
  UpstreamAuthority: { server: "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority" },
  Notifier: { server: "spire.plugin.server.notifier.v1.Notifier" },
  BundlePublisher: { server: "spire.plugin.server.bundlepublisher.v1.BundlePublisher" },
  CredentialComposer: { server: "spire.plugin.server.credentialcomposer.v1.CredentialComposer" },
  DataStore: { server: "signet.plugin.server.datastore.v1.DataStore" },
};

export function serviceName(type: PluginType, side: Side): string {
  const name = serviceNamesByType[type]?.[side];
  if (!name) throw new Error(`a ${type} plugin has no ${side}-side service`);
  return name;
}

export function sidesOf(plugin: PluginUnderTest): readonly Side[] {
  if (plugin.sides?.length) return plugin.sides;
  const known = serviceNamesByType[plugin.type] ?? {};
  const sides = (["server", "agent"] as const).filter((s) => known[s] !== undefined);
  if (sides.length === 1) return sides;
  throw new Error(`a ${plugin.type} plugin can serve either side: say which with "sides"`);
}

export function expectedServiceNames(plugin: PluginUnderTest): readonly string[] {
  return plugin.serviceNames ?? sidesOf(plugin).map((side) => serviceName(plugin.type, side));
}

/** Settings with defaults applied, as the harness uses them. */
export interface ResolvedPlugin extends PluginUnderTest {
  readonly node: boolean;
  readonly args: readonly string[];
  readonly configurable: boolean;
  readonly trustDomain: string;
  readonly badConfigs: readonly BadConfig[];
  readonly handshakeTimeoutMs: number;
  readonly callTimeoutMs: number;
}

export function resolvePlugin(plugin: PluginUnderTest): ResolvedPlugin {
  return {
    ...plugin,
    node: plugin.node ?? /\.(c|m)?js$/.test(plugin.file),
    args: plugin.args ?? [],
    configurable: plugin.configurable ?? true,
    trustDomain: plugin.trustDomain ?? "example.org",
    badConfigs: plugin.badConfigs ?? [],
    handshakeTimeoutMs: plugin.handshakeTimeoutMs ?? 60_000,
    callTimeoutMs: plugin.callTimeoutMs ?? 30_000,
  };
}

/** One configuration text: the fixed string, or a fresh one from the author's function. */
export async function configText(plugin: PluginUnderTest): Promise<string> {
  const c = plugin.config;
  return typeof c === "function" ? await c() : (c ?? "");
}
