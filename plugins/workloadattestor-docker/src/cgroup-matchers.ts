/**
 * SPIRE's legacy container locator: `container_id_cgroup_matchers`, used
 * only with `use_new_container_locator = false`. A pattern is a
 * "/"-separated path, not a regular expression: a component `*` matches any
 * one component, the component `<id>` (exactly once per pattern) matches one
 * component and is the container ID, every other component matches itself.
 * A pattern matches the whole cgroup path.
 *
 *   "/docker/<id>"         matches /docker/0123…
 *   "/my.slice/*\/<id>/*"   matches /my.slice/a/0123…/b
 *
 * Two patterns that could match the same path are refused at configuration
 * time, so a bad list fails at rollout rather than on some workload later.
 */
import { PluginError } from "@signet/plugin-sdk";
import type { Cgroup } from "./cgroups.js";

const wildcardToken = "*";
const containerIdToken = "<id>";

export class MatcherConfigError extends Error {}

export interface ContainerIdFinder {
  /** The container ID if a pattern matches `cgroupPath` (possibly ""), else undefined. */
  find(cgroupPath: string): string | undefined;
}

export function compileMatchers(patterns: readonly string[]): ContainerIdFinder {
  if (patterns.length < 1) throw new MatcherConfigError("dockerfinder: at least 1 pattern must be supplied");
  const ambiguous = ambiguousPatterns(patterns);
  if (ambiguous.length > 0) {
    throw new MatcherConfigError(`dockerfinder: patterns must not be ambiguous: [${ambiguous.map((p) => JSON.stringify(p)).join(" ")}]`);
  }
  const expressions = patterns.map(compile);
  return {
    find(cgroupPath) {
      for (const expression of expressions) {
        const match = expression.exec(cgroupPath);
        if (match) return match[1]!;
      }
      return undefined;
    },
  };
}

function compile(pattern: string): RegExp {
  let ids = 0;
  const parts = pattern.split("/").map((component) => {
    if (component === wildcardToken) return "[^/]*";
    if (component === containerIdToken) {
      ids++;
      return "([^/]*)";
    }
    return component.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  });
  if (ids !== 1) {
    throw new MatcherConfigError(`pattern ${JSON.stringify(pattern)} must contain the container id token ${JSON.stringify(containerIdToken)} exactly once`);
  }
  return new RegExp(`^${parts.join("/")}$`);
}

/** Patterns that can match a common input, in the order given (SPIRE lists them in map order). */
function ambiguousPatterns(patterns: readonly string[]): string[] {
  const found = new Set<string>();
  patterns.forEach((a, i) => {
    for (const b of patterns.slice(i + 1)) {
      if (equivalent(a, b)) {
        found.add(a);
        found.add(b);
      }
    }
  });
  return patterns.filter((p, i) => found.has(p) && patterns.indexOf(p) === i);
}

/** Same component count and, at each index, equal components or a token on either side. */
function equivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const as = a.split("/");
  const bs = b.split("/");
  if (as.length !== bs.length) return false;
  return as.every((component, i) => {
    const other = bs[i]!;
    return component === other || [component, other].includes(wildcardToken) || [component, other].includes(containerIdToken);
  });
}

/**
 * The one container ID the cgroups agree on with the legacy matchers; ""
 * when no cgroup matches (not a container). As in SPIRE these failures are
 * plain errors (Unknown over gRPC).
 */
export function containerIdFromCgroups(finder: ContainerIdFinder, cgroups: readonly Cgroup[]): string {
  let matched = false;
  let containerId = "";
  for (const cgroup of cgroups) {
    const candidate = finder.find(cgroup.groupPath);
    if (candidate === undefined) continue;
    matched = true;
    if (containerId === "") containerId = candidate;
    else if (candidate !== containerId) {
      throw new PluginError("unknown", `workloadattestor/docker: multiple container IDs found in cgroups (${containerId}, ${candidate})`);
    }
  }
  if (matched && containerId === "") throw new PluginError("unknown", "workloadattestor/docker: a pattern matched, but no container id was found");
  return containerId;
}
