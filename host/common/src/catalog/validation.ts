/**
 * `validate` for a config file's `plugins { … }` node: what SPIRE's
 * ValidateConfig does (pkg/server/catalog, pkg/common/catalog
 * ValidatePluginConfigs). Every enabled plugin is started and asked to
 * validate its plugin data instead of being configured, and the type
 * constraints become notes rather than a refusal to start.
 */
import { pluginConstraints, constraintProblem } from "../config/cardinality.js";
import { type PluginDeclaration, parsePluginDeclarations } from "../config/plugins.js";
import { Catalog, type PluginValidation } from "./catalog.js";
import type { CatalogFromConfigOptions } from "./from-config.js";
import { pluginTypes, type Side } from "./plugin-types.js";

/** Notes under one heading: `KeyManager "disk"` for a plugin, the type name for a constraint. */
export interface ValidationNotes {
  readonly id: string;
  readonly notes: readonly string[];
}

export interface CatalogValidation {
  /** Every launched plugin's verdict, in declaration order. */
  readonly plugins: readonly PluginValidation[];
  /** Unmet plugin type constraints (SPIRE's "constraint not satisfied: …" notes). */
  readonly constraints: readonly ValidationNotes[];
  /** True when every plugin is valid and every constraint is met. */
  readonly valid: boolean;
}

/**
 * Throws a ConfigError when the plugin blocks themselves are malformed (the
 * file is invalid), a CatalogError when a plugin cannot be started, and a
 * plain Error when join_token is overridden (SPIRE refuses to validate).
 */
export async function validateFromConfig(
  pluginsNode: Parameters<typeof parsePluginDeclarations>[0],
  options: CatalogFromConfigOptions,
): Promise<CatalogValidation> {
  const { plugins } = parsePluginDeclarations(pluginsNode, {
    side: options.side,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
  });
  if (plugins.some((d) => isJoinToken(d) && d.source.kind !== "builtin")) {
    throw new Error("the built-in join_token node attestor cannot be overridden by an external plugin");
  }
  const constraints = constraintNotes(plugins, options.side);
  const verdicts = await Catalog.validate(
    plugins.filter((d) => !(isJoinToken(d) && d.source.kind === "builtin")),
    options,
  );
  return { plugins: verdicts, constraints, valid: constraints.length === 0 && verdicts.every((v) => v.valid) };
}

/** `Type "name"`, the heading SPIRE prints a plugin's notes under. */
export function pluginId(p: { readonly type: string; readonly name: string }): string {
  return `${p.type} "${p.name}"`;
}

function isJoinToken(d: PluginDeclaration): boolean {
  return d.type === "NodeAttestor" && d.name === "join_token";
}

function constraintNotes(plugins: readonly PluginDeclaration[], side: Side): ValidationNotes[] {
  const out: ValidationNotes[] = [];
  for (const type of Object.keys(pluginTypes[side])) {
    const count = plugins.filter((d) => d.type === type).length;
    // SPIRE's server checks its (built-in) datastore apart from the catalog, with its own note.
    if (side === "server" && type === "DataStore" && count === 0) {
      out.push({ id: 'DataStore "sql"', notes: ["'datastore' must be configured"] });
      continue;
    }
    const constraint = pluginConstraints[side][type];
    const problem = constraint && constraintProblem(constraint, count);
    if (problem) out.push({ id: type, notes: [`constraint not satisfied: ${problem}`] });
  }
  return out;
}
