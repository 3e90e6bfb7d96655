import { join } from "node:path";
// @ts-expect-error: plain ESM build script, no type declarations
import { bundlePlugin } from "../../scripts/bundle-plugins.mjs";

const root = join(__dirname, "..", "..");

/**
 * Bundles a TypeScript plugin entry point into .tmp/plugins/<name>/ exactly
 * as scripts/bundle-plugins.mjs bundles real plugins, and returns the
 * executable, so tests run a plugin as the real separate process it is.
 */
export async function buildPlugin(entry: string, name: string, type = "WorkloadAttestor"): Promise<string> {
  return (await bundlePlugin(entry, join(root, ".tmp", "plugins", name), { type, sourceConditions: true })) as string;
}
