#!/usr/bin/env node
// bench/entries: the server's entry cache at scale.
//
//   seed         100k entries (100 node aliases, 3 selectors each) and 10k agents with node selectors,
//                written straight into the SQL DataStore's tables (seed.ts) by the child process that
//                then serves the plugin's DataStore service
//   cache load   EntryCache.start(): GetLatestEventId + ListEntries + ListAttestedNodes over gRPC into
//                the index (most of a server's cold start)
//   memory       heapUsed and RSS growth of this process across the load (after GC), per 100k entries;
//                the process runs under the V8 flags on signet-server's #! line
//   lookup       authorizedEntries() for an agent with 10k entries (half direct, half via an alias),
//                and for an ordinary agent; authorizedEntry() for one id of the big agent
//   feed         create one entry, time until the cache has applied it; then create a sample through
//                CreateEntries (one transaction per entry, as SPIRE) and time the cache catching up
//
// Backends: SQLite (always) and PostgreSQL when reachable (SIGNET_BENCH_PG, default
// postgres://postgres:postgres@127.0.0.1:5432/test; tables go into a private schema dropped afterwards).
// Targets: lookup p99 <= 20 ms; load <= 10 s; <= 60 MB per 100k entries.
//
// Usage: node bench/entries/run.mjs [--quick]     (npm run bench:entries)
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os, { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { binV8Flags } from "../agent-pair/pair.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

// GC must be callable for the memory figures, and the cache must live under
// the V8 flags signet-server runs with (the flags on its #! line): re-run so.
const serverV8Flags = binV8Flags("host/server/src/cli/main.ts");
if (typeof globalThis.gc !== "function") {
  const args = ["--expose-gc", ...serverV8Flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const quick = process.argv.includes("--quick");
const sizes = quick
  ? { entries: 10_000, agents: 1_000, bigAgentEntries: 2_000, lookups: 100, writeSample: 100 }
  : { entries: 100_000, agents: 10_000, bigAgentEntries: 10_000, lookups: 300, writeSample: 500 };

const out = join(root, ".tmp", "bench-entries");
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["signet-source"],
  // Native and dialect-probing packages stay as they are in node_modules.
  external: ["koffi", "sqlite3", "pg", "pg-native", "mysql2", "knex", "@grpc/grpc-js", "esbuild", "better-sqlite3", "tedious", "mysql", "oracledb", "pg-query-stream"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
  absWorkingDir: root,
};
await build({ ...common, entryPoints: [join(root, "bench/entries/harness.ts")], outfile: join(out, "harness.mjs") });
await build({ ...common, entryPoints: [join(root, "bench/entries/datastore-server.ts")], outfile: join(out, "datastore-server.mjs") });
const { runBackend } = await import(pathToFileURL(join(out, "harness.mjs")).href);

const log = (line) => console.log(line);
const backends = [{ name: "sqlite", databaseType: "sqlite3" }];
const pg = await postgresBackend();
if (pg.available) backends.push(pg.backend);
else console.log(`PostgreSQL: not measured (${pg.reason})`);

const loadBefore = loadavg()[0];
const results = [];
try {
  for (const b of backends) {
    console.log(`${b.name}: ${sizes.entries} entries, ${sizes.agents} agents`);
    results.push(await runBackend({ ...b, ...sizes, serverScript: join(out, "datastore-server.mjs"), log }));
  }
} finally {
  await pg.cleanup?.();
}

const targets = { lookup_big_p99_ms: 20, cache_load_ms: 10_000, rss_mb_per_100k_entries: 60 };
const rows = [
  ["seed, direct SQL (s)", (r) => (r.seed_ms / 1000).toFixed(1)],
  ["cache load (ms)", (r) => r.cache_load_ms.toFixed(0), "≤ 10000"],
  ["  of which server CPU (ms)", (r) => r.cache_load_cpu_ms.toFixed(0)],
  ["entries in cache", (r) => String(r.cache_entries)],
  ["heap growth (MB)", (r) => r.heap_used_growth_mb.toFixed(1)],
  ["RSS growth (MB)", (r) => r.rss_growth_mb.toFixed(1)],
  ["heap MB / 100k entries", (r) => r.heap_mb_per_100k_entries.toFixed(1)],
  ["RSS MB / 100k entries", (r) => r.rss_mb_per_100k_entries.toFixed(1), "≤ 60"],
  ["big agent entries", (r) => String(r.big_agent_entries)],
  ["lookup big p50 (ms)", (r) => r.lookup_big_p50_ms.toFixed(2)],
  ["lookup big p99 (ms)", (r) => r.lookup_big_p99_ms.toFixed(2), "≤ 20"],
  ["lookup big CPU p50 (ms)", (r) => r.lookup_big_cpu_p50_ms.toFixed(2)],
  ["lookup big CPU p99 (ms)", (r) => r.lookup_big_cpu_p99_ms.toFixed(2)],
  ["lookup small p50 (ms)", (r) => r.lookup_small_p50_ms.toFixed(4)],
  ["lookup small p99 (ms)", (r) => r.lookup_small_p99_ms.toFixed(4)],
  ["authorizedEntry p99 (ms)", (r) => r.authorized_entry_p99_ms.toFixed(2)],
  ["feed latency, 1 write (ms)", (r) => r.feed_latency_ms.toFixed(0)],
  ["API CreateEntries (/s)", (r) => r.api_create_per_s.toFixed(0)],
  ["cache caught up after (ms)", (r) => r.feed_catch_up_after_writes_ms.toFixed(0)],
];
console.log("");
console.log(["metric".padEnd(26), ...results.map((r) => r.backend.padStart(12)), "target".padStart(10)].join(""));
for (const [label, f, target] of rows) {
  console.log([label.padEnd(26), ...results.map((r) => f(r).padStart(12)), (target ?? "").padStart(10)].join(""));
}
const failed = results.flatMap((r) =>
  Object.entries(targets)
    .filter(([k, limit]) => !quick && r[k] > limit)
    .map(([k, limit]) => `${r.backend}.${k} = ${r[k]} > ${limit}`),
);
if (failed.length) console.log(`\nmissed targets: ${failed.join("; ")}`);
console.log(`load average (1 min) before/after: ${loadBefore.toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);

mkdirSync(join(root, "bench", "results"), { recursive: true });
const file = join(root, "bench", "results", `entries-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ bench: "entries", quick, node: process.version, v8_flags: serverV8Flags, load_average: [loadBefore, loadavg()[0]], sizes, targets, results, missed: failed }, null, 2)}\n`,
);
console.log(`\nwrote ${file}`);

/** PostgreSQL backend in a private schema, if the server answers. */
async function postgresBackend() {
  const base = process.env.SIGNET_BENCH_PG ?? "postgres://postgres:postgres@127.0.0.1:5432/test";
  let pgModule;
  try {
    pgModule = (await import("pg")).default;
  } catch (e) {
    return { available: false, reason: `pg driver not loadable: ${e.message}` };
  }
  const schema = `signet_bench_${process.pid}`;
  const admin = new pgModule.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (e) {
    await admin.end().catch(() => {});
    return { available: false, reason: `${base.replace(/:[^:@/]*@/, ":***@")}: ${e.message}` };
  }
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    available: true,
    backend: { name: "postgres", databaseType: "postgres", connectionString: url.toString() },
    cleanup: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}
