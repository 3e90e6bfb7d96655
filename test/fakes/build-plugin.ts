import { chmodSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Bundles a TypeScript plugin entry point into one runnable .mjs file under
 * .tmp/, the same way scripts/bundle-plugins.mjs bundles real plugins, so
 * tests run a plugin as the real separate process it is.
 */
export async function buildPlugin(entry: string, name: string): Promise<string> {
  const outdir = join(root, ".tmp", "plugins");
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["signet-source"],
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "silent",
  });
  chmodSync(outfile, 0o755);
  return outfile;
}
