import type { ConfigSource, ConfigValue } from "@signet/config";
import { checkPluginCardinality } from "../config/cardinality.js";
import { parsePluginDeclarations } from "../config/plugins.js";
import { Catalog, type CatalogOptions } from "./catalog.js";

export interface CatalogFromConfigOptions extends CatalogOptions {
  /** The file's text, so errors carry line numbers and declaration order is kept. */
  readonly source?: ConfigSource;
  readonly cwd?: string;
}

/**
 * From a config file's `plugins { … }` node to running plugins: declarations
 * in file order, SPIRE's cardinality rules, then a parallel load. The
 * built-in join_token node attestor is not a plugin (the server's API and
 * the agent handle join tokens themselves), so it is not launched.
 */
export async function catalogFromConfig(pluginsNode: ConfigValue | undefined, options: CatalogFromConfigOptions): Promise<Catalog> {
  const { plugins, disabled } = parsePluginDeclarations(pluginsNode, {
    side: options.side,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
  });
  for (const d of disabled) {
    options.log.debug("Plugin disabled; not loading it", { plugin_type: d.type, plugin_name: d.name });
  }
  checkPluginCardinality(plugins, options.side);
  const launched = plugins.filter((d) => !(d.type === "NodeAttestor" && d.name === "join_token" && d.source.kind === "builtin"));
  return Catalog.load(launched, options);
}
