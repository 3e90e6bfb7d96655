import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { LaunchCommand } from "@signet/plugin-protocol";
import type { Side } from "./plugin-types.js";
import { builtinPackageName } from "./plugin-types.js";

/** Where a plugin's program comes from (as parsed from its HCL block). */
export type PluginSource =
  | { readonly kind: "cmd"; readonly path: string }
  | { readonly kind: "package"; readonly packageName: string }
  | { readonly kind: "builtin" };

/** The `"signet"` block a plugin package declares in its package.json. */
export interface SignetPackageInfo {
  readonly type: string;
  readonly sides: readonly Side[];
  /** Version of the plugin contract the package was written for. */
  readonly apiVersion: number;
}

export class ResolveError extends Error {
  override readonly name = "ResolveError";
}

export interface ResolveContext {
  readonly type: string;
  readonly name: string;
  readonly side: Side;
  readonly args: readonly string[];
  /** Directories to resolve packages from, in order (defaults: cwd, then this host's own install). */
  readonly searchFrom?: readonly string[];
}

/** Turns a plugin block's source into the command the catalog runs. */
export function resolvePluginCommand(source: PluginSource, ctx: ResolveContext): LaunchCommand {
  switch (source.kind) {
    case "cmd": {
      // SPIRE resolves plugin_cmd against its working directory, never PATH.
      const file = isAbsolute(source.path) ? source.path : resolve(process.cwd(), source.path);
      return { file, node: false, args: ctx.args };
    }
    case "package":
      return commandFromPackage(source.packageName, ctx, false);
    case "builtin":
      return commandFromPackage(builtinPackageName(ctx.type, ctx.name), ctx, true);
  }
}

function commandFromPackage(packageName: string, ctx: ResolveContext, builtin: boolean): LaunchCommand {
  const dir = findPackageDir(packageName, ctx.searchFrom ?? defaultSearchDirs());
  if (!dir) {
    if (builtin) {
      throw new ResolveError(
        `there is no built-in ${ctx.type} plugin named "${ctx.name}" (package ${packageName} is not installed); ` +
          "set plugin_cmd to an executable or plugin_package to an installed npm package",
      );
    }
    throw new ResolveError(`plugin_package ${JSON.stringify(packageName)} is not installed (looked in node_modules from the working directory and from Signet's own install)`);
  }
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    bin?: string | Record<string, string>;
    signet?: Partial<SignetPackageInfo>;
  };
  const info = pkg.signet;
  if (!info || typeof info.type !== "string") {
    throw new ResolveError(`package ${packageName} is not a Signet plugin: its package.json has no "signet": { "type": … } block`);
  }
  if (info.type !== ctx.type) {
    throw new ResolveError(`package ${packageName} is a ${info.type} plugin, not a ${ctx.type} plugin`);
  }
  if (Array.isArray(info.sides) && !info.sides.includes(ctx.side)) {
    throw new ResolveError(`package ${packageName} runs only in the ${info.sides.join(" and ")}, not in the ${ctx.side}`);
  }
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin ? Object.values(pkg.bin)[0] : undefined;
  if (!bin) throw new ResolveError(`package ${packageName} declares no "bin" entry to run`);
  const file = join(dir, bin);
  return { file, node: /\.(c|m)?js$/.test(file), args: ctx.args };
}

function defaultSearchDirs(): string[] {
  return [process.cwd(), dirname(new URL(import.meta.url).pathname)];
}

/** Node's own lookup path for `packageName`, without needing the package to export its package.json. */
export function findPackageDir(packageName: string, from: readonly string[]): string | undefined {
  for (const start of from) {
    const req = createRequire(join(start, "noop.js"));
    for (const base of req.resolve.paths(packageName) ?? []) {
      const dir = join(base, packageName);
      if (existsSync(join(dir, "package.json"))) return dir;
    }
  }
  return undefined;
}
