#!/usr/bin/env node
// Signet plugin launcher (copied next to each bundle as plugin.mjs).
// Node 20 keeps no code cache for ES modules, and compiling a plugin bundle
// (grpc-js included) is a large share of its cold start. So the bundle is a
// CommonJS function compiled through vm.Script with V8's code cache, stored
// beside it as plugin.cjs.cache: made at build time by a warm-up run, and
// rewritten here if this Node's V8 rejects it.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, "plugin.cjs");
const cacheFile = `${file}.cache`;
const warmup = process.env.SIGNET_PLUGIN_WARMUP === "1";

let cachedData;
if (!warmup) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet: compile from source
  }
}
const source = readFileSync(file, "utf8");
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
const saveCache = () => {
  try {
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // read-only install: run without a cache
  }
};
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
if (warmup) {
  // Let the plugin start serving so the cache holds the functions startup runs.
  setTimeout(() => {
    saveCache();
    process.exit(0);
  }, 500);
} else if (cachedData === undefined || script.cachedDataRejected) {
  saveCache();
}
