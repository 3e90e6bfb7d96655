#!/usr/bin/env node
// Bundles every plugin package (plugins/*/ with a "signet" block and
// src/index.ts) into plugins/<pkg>/dist/: plugin.cjs (the whole program in
// one file), plugin.mjs (the executable: scripts/plugin-launcher.mjs) and
// plugin.cjs.cache (V8 code cache from a warm-up run). A plugin is a process
// started on demand, and this is what keeps its cold start near a bare
// `node -e 0` (a measured figure, see bench/plugin-rpc). Plugin entry points
// must not use top-level await (the bundle is CommonJS).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Bundles one TypeScript entry point into `outDir` and returns the path of
 * the executable (outDir/plugin.mjs). `type` is the plugin type, used as the
 * cookie for the warm-up run that fills the code cache.
 */
export async function bundlePlugin(entry, outDir, { type, sourceConditions = false }) {
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, "plugin.cjs");
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    // Tests bundle straight from TypeScript sources; release builds from dist/.
    conditions: sourceConditions ? ["signet-source"] : [],
    logLevel: "warning",
  });
  const launcher = join(outDir, "plugin.mjs");
  const template = readFileSync(join(root, "scripts", "plugin-launcher.mjs"), "utf8");
  const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
  const writeLauncher = (cacheHash) => {
    writeFileSync(
      launcher,
      template.replace("__SIGNET_BUNDLE_SHA256__", sha256(bundle)).replace("__SIGNET_CACHE_SHA256__", cacheHash),
    );
    chmodSync(launcher, 0o755);
  };
  writeLauncher("");
  rmSync(`${bundle}.cache`, { force: true });
  // A warm-up that fails only costs the cache; the launcher makes one on first real start.
  spawnSync(process.execPath, [launcher], {
    env: { ...process.env, SIGNET_PLUGIN_WARMUP: "1", [type]: type, PLUGIN_UNIX_SOCKET_DIR: "" },
    stdio: "ignore",
    timeout: 20_000,
  });
  // Pin the cache the warm-up made (without one, the plugin compiles from source).
  if (existsSync(`${bundle}.cache`)) writeLauncher(sha256(`${bundle}.cache`));
  return launcher;
}

async function main() {
  const dir = join(root, "plugins");
  const built = [];
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const pkgDir = join(dir, name);
    const pkgFile = join(pkgDir, "package.json");
    const entry = join(pkgDir, "src", "index.ts");
    if (!existsSync(pkgFile) || !existsSync(entry)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    if (!pkg.signet) continue;
    await bundlePlugin(entry, join(pkgDir, "dist"), { type: pkg.signet.type, sourceConditions: true });
    built.push(pkg.name);
  }
  console.log(`bundle-plugins: ${built.length} plugin(s)${built.length ? `: ${built.join(", ")}` : ""}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
