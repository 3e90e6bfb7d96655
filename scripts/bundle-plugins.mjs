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
import { createRequire } from "node:module";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Big dependencies a plugin rarely runs, kept out of plugin.cjs so every
 * start does not pay to read and compile them: the HCL v1 parser (1.5 MB of
 * GopherJS) is needed only when a host sends HCL rather than JSON. Each is
 * copied beside the bundle, pinned by hash in the launcher, and loaded on
 * first use.
 */
const sidecars = {
  "js-hcl-parser": () => createRequire(join(root, "config", "package.json")).resolve("js-hcl-parser"),
};

const sidecarPlugin = {
  name: "signet-sidecars",
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(sidecars).join("|")})$`);
    b.onResolve({ filter }, (args) => ({ path: `signet-sidecar:${args.path}`, external: true }));
  },
};

/**
 * Bundles one TypeScript entry point into `outDir` and returns the path of
 * the executable (outDir/plugin.mjs). `type` is the plugin type, used as the
 * cookie for the warm-up run that fills the code cache. `external` names
 * packages left out of the bundle and required from node_modules at run time
 * (native drivers such as sqlite3 cannot be inlined); a plugin package lists
 * them as "signet": { "external": [...] }.
 */
export async function bundlePlugin(entry, outDir, { type, sourceConditions = false, external = [] }) {
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
    plugins: [sidecarPlugin],
    external,
    // Code compiled by vm.Script cannot run import() on Node 20: lower it to require().
    supported: { "dynamic-import": false },
    metafile: true,
    logLevel: "warning",
  });
  const used = Object.keys(sidecars).filter((name) => readFileSync(bundle, "utf8").includes(`signet-sidecar:${name}`));
  const sidecarHashes = {};
  for (const name of used) {
    const target = join(outDir, `${name}.cjs`);
    writeFileSync(target, readFileSync(sidecars[name]()));
    sidecarHashes[name] = createHash("sha256").update(readFileSync(target)).digest("hex");
  }
  const launcher = join(outDir, "plugin.mjs");
  const template = readFileSync(join(root, "scripts", "plugin-launcher.mjs"), "utf8");
  const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
  const writeLauncher = (cacheHash) => {
    writeFileSync(
      launcher,
      template
        .replace("__SIGNET_BUNDLE_SHA256__", sha256(bundle))
        .replace("__SIGNET_CACHE_SHA256__", cacheHash)
        .replace('"__SIGNET_SIDECARS__"', JSON.stringify(sidecarHashes)),
    );
    chmodSync(launcher, 0o755);
  };
  writeLauncher("");
  rmSync(`${bundle}.cache`, { force: true });
  await warmUp(launcher, type);
  // Pin the cache the warm-up made (without one, the plugin compiles from source).
  if (existsSync(`${bundle}.cache`)) writeLauncher(sha256(`${bundle}.cache`));
  return launcher;
}

/**
 * Runs the plugin once as a host would (handshake, broker, Init, Configure
 * with no data, Shutdown) so its code cache covers the start-up path. A
 * plugin whose Configure refuses empty data still warms everything else.
 * A failed warm-up only costs the cache.
 */
async function warmUp(launcher, type) {
  const env = { ...process.env, SIGNET_PLUGIN_WARMUP: "1", PLUGIN_UNIX_SOCKET_DIR: "" };
  let protocol;
  try {
    protocol = await import(join(root, "plugin-protocol", "dist", "index.js"));
  } catch {
    // not built yet: a plain start still caches the module's top level
  }
  if (!protocol) {
    spawnSync(process.execPath, [launcher], { env: { ...env, [type]: type }, stdio: "ignore", timeout: 20_000 });
    return;
  }
  const log = { log() {} };
  let launched;
  try {
    launched = await protocol.launchPlugin({ type, command: { file: launcher, node: true, args: [] }, handshakeTimeoutMs: 20_000, log, env });
    const hostServices = await protocol.HostServiceServer.start([], "warmup");
    const connection = new protocol.PluginConnection(launched.handshake, log);
    try {
      await connection.initialize(hostServices, 10_000);
      if (connection.hasConfig()) await connection.configure("example.org", "", 10_000).catch(() => {});
      await connection.shutdown(5_000);
      await Promise.race([launched.exited, new Promise((r) => setTimeout(r, 5_000))]);
    } finally {
      connection.close();
      await hostServices.stop();
    }
  } catch (e) {
    console.warn(`bundle-plugins: warm-up of ${launcher} failed (${e.message}); it will start without a code cache`);
  } finally {
    launched?.child.kill("SIGKILL");
  }
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
    await bundlePlugin(entry, join(pkgDir, "dist"), {
      type: pkg.signet.type,
      sourceConditions: true,
      external: pkg.signet.external ?? [],
    });
    built.push(pkg.name);
  }
  console.log(`bundle-plugins: ${built.length} plugin(s)${built.length ? `: ${built.join(", ")}` : ""}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
