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

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, "plugin.cjs");
const cacheFile = `${file}.cache`;
const warmup = process.env.SIGNET_PLUGIN_WARMUP === "1";
const sha256 = (data) => createHash("sha256").update(data).digest("hex");

const source = readFileSync(file);
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
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
if (warmup) {
  // Let the plugin start serving so the cache holds the functions startup runs.
  setTimeout(() => {
    writeFileSync(cacheFile, script.createCachedData());
    process.exit(0);
  }, 500);
}
