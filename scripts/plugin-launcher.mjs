#!/usr/bin/env node
// Signet plugin launcher (copied next to each bundle as plugin.mjs).
//
// The program is plugin.cjs; this file is what `bin`, plugin_cmd and
// plugin_checksum point at, so it pins the program: the bundler writes the
// SHA-256 of plugin.cjs (and of its code cache) below, and a mismatch stops
// the start. A checksum of this file therefore covers the plugin's code.
//
// Why a launcher at all: Node 20 keeps no code cache for ES modules, and
// compiling a plugin bundle (grpc-js included) is a large share of its cold
// start. plugin.cjs is compiled through vm.Script with the V8 code cache made
// by a warm-up run at build time; a cache that does not match its pinned hash,
// or that this Node's V8 rejects, is simply not used.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const bundleSha256 = "__SIGNET_BUNDLE_SHA256__";
const cacheSha256 = "__SIGNET_CACHE_SHA256__";
/** Rarely used dependencies kept beside the bundle (name -> SHA-256 of <name>.cjs). */
const sidecars = "__SIGNET_SIDECARS__";

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, "plugin.cjs");
const cacheFile = `${file}.cache`;
const warmup = process.env.SIGNET_PLUGIN_WARMUP === "1";
const sha256 = (data) => createHash("sha256").update(data).digest("hex");

let source = readFileSync(file);
if (sha256(source) !== bundleSha256) {
  process.stderr.write(`${file}: contents do not match the checksum pinned in ${join(dir, "plugin.mjs")}; refusing to run\n`);
  process.exit(1);
}
let cachedData;
if (!warmup && /^[0-9a-f]{64}$/.test(cacheSha256)) {
  try {
    const data = readFileSync(cacheFile);
    if (sha256(data) === cacheSha256) cachedData = data;
  } catch {
    // no cache: compile from source
  }
}
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source.toString("utf8")}\n})`, {
  filename: file,
  cachedData,
});
// V8 keeps its own copy of the source; these buffers would otherwise live as long as the plugin.
source = undefined;
cachedData = undefined;
const baseRequire = createRequire(file);
const loadedSidecars = new Map();
/** require() for the bundle: "signet-sidecar:<name>" loads a pinned file beside it on first use. */
function bundleRequire(id) {
  if (!id.startsWith("signet-sidecar:")) return baseRequire(id);
  const name = id.slice("signet-sidecar:".length);
  if (!loadedSidecars.has(name)) {
    const path = join(dir, `${name}.cjs`);
    const code = readFileSync(path);
    if (!Object.hasOwn(sidecars, name) || sha256(code) !== sidecars[name]) {
      throw new Error(`${path}: contents do not match the checksum pinned in ${join(dir, "plugin.mjs")}`);
    }
    const mod = { exports: {} };
    new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code.toString("utf8")}\n})`, { filename: path })
      .runInThisContext()(mod.exports, baseRequire, mod, path, dir);
    loadedSidecars.set(name, mod.exports);
  }
  return loadedSidecars.get(name);
}
bundleRequire.resolve = baseRequire.resolve;
const module = { exports: {} };
script.runInThisContext()(module.exports, bundleRequire, module, file, dir);
if (warmup) {
  // The bundler drives this run like a host (handshake, Init, Configure,
  // Shutdown); the cache written on exit holds every function that took.
  process.on("exit", () => writeFileSync(cacheFile, script.createCachedData()));
  setTimeout(() => process.exit(0), 5_000).unref();
}
