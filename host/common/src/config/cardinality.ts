/**
 * How many plugins of each type a host needs (plugin-protocol.md 2.4), with
 * SPIRE's messages (pkg/common/catalog/constraints.go, the server and agent
 * catalogs). SPIRE checks after loading; Signet checks the declarations, so a
 * wrong file fails before any plugin process starts.
 */
import { ConfigError } from "@signet/config";
import type { Side } from "../catalog/plugin-types.js";
import { pluginTypes } from "../catalog/plugin-types.js";
import type { PluginDeclaration } from "./plugins.js";

export interface Constraint {
  /** 0: none. */
  readonly min: number;
  /** 0: no upper bound. */
  readonly max: number;
}

const EXACTLY_ONE: Constraint = { min: 1, max: 1 };
const MAYBE_ONE: Constraint = { min: 0, max: 1 };
const AT_LEAST_ONE: Constraint = { min: 1, max: 0 };
const ZERO_OR_MORE: Constraint = { min: 0, max: 0 };

export const pluginConstraints: Readonly<Record<Side, Readonly<Record<string, Constraint>>>> = {
  server: {
    DataStore: EXACTLY_ONE,
    KeyManager: EXACTLY_ONE,
    NodeAttestor: ZERO_OR_MORE,
    UpstreamAuthority: MAYBE_ONE,
    Notifier: ZERO_OR_MORE,
    CredentialComposer: ZERO_OR_MORE,
    BundlePublisher: ZERO_OR_MORE,
  },
  agent: {
    KeyManager: EXACTLY_ONE,
    NodeAttestor: EXACTLY_ONE,
    WorkloadAttestor: AT_LEAST_ONE,
    SVIDStore: ZERO_OR_MORE,
  },
};

/** Throws a ConfigError naming every unmet constraint; disabled declarations do not count. */
export function checkPluginCardinality(declarations: readonly PluginDeclaration[], side: Side): void {
  const enabled = declarations.filter((d) => d.enabled);
  const joinToken = enabled.find((d) => d.type === "NodeAttestor" && d.name === "join_token" && d.source.kind !== "builtin");
  if (joinToken !== undefined) {
    throw new ConfigError({ detail: "the built-in join_token node attestor cannot be overridden by an external plugin" });
  }

  const problems: string[] = [];
  for (const type of Object.keys(pluginTypes[side])) {
    const constraint = pluginConstraints[side][type] ?? ZERO_OR_MORE;
    const count = enabled.filter((d) => d.type === type).length;
    const problem = constraintProblem(constraint, count);
    if (problem !== undefined) problems.push(`plugin type ${JSON.stringify(type)} constraint not satisfied: ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError({ detail: problems.join("; ") });
}

/** SPIRE's Constraints.Check: what is wrong with `count` plugins of a type, if anything. */
export function constraintProblem({ min, max }: Constraint, count: number): string | undefined {
  if (max > 0 && min === max && min !== count) return `expected exactly ${min} but got ${count}`;
  if (min > 0 && min > count) return `expected at least ${min} but got ${count}`;
  if (max > 0 && max < count) return `expected at most ${max} but got ${count}`;
  return undefined;
}
