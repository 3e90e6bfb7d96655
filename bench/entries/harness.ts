/**
 * The measuring side of bench/entries (bundled and run by run.mjs): starts a
 * DataStore in a child process that seeds the dataset, then builds the
 * server's entry cache from it and times lookups, the feed and API writes.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials } from "@grpc/grpc-js";
import { settleMemory } from "@signet/host-common";
import { createClient, unlimitedMessageSize } from "@signet/proto";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { EntryCache } from "../../host/server/src/authorizedentries/entry-cache.js";
import { entryIdOf } from "../../host/server/src/authorizedentries/encoded-entry.js";
import { agentPath, entry, trustDomain } from "./dataset.js";

export interface BackendOptions {
  readonly name: string;
  readonly databaseType: "sqlite3" | "postgres";
  /** Empty for SQLite: a file in a fresh temporary directory. */
  readonly connectionString?: string;
  readonly entries: number;
  readonly agents: number;
  /** Entries the "big" agent gets (half parented by it, half through a node alias). */
  readonly bigAgentEntries: number;
  readonly lookups: number;
  /** Entries created through CreateEntries to time the API write path. */
  readonly writeSample: number;
  readonly serverScript: string;
  readonly log: (line: string) => void;
}

export interface BackendFigures {
  readonly backend: string;
  readonly entries: number;
  readonly agents: number;
  readonly seed_ms: number;
  readonly api_create_per_s: number;
  readonly feed_catch_up_after_writes_ms: number;
  readonly cache_load_ms: number;
  /** CPU this process (the server side: gRPC decode + index) spent during the load; the rest is the DataStore. */
  readonly cache_load_cpu_ms: number;
  readonly cache_entries: number;
  readonly heap_used_growth_mb: number;
  readonly rss_growth_mb: number;
  readonly heap_mb_per_100k_entries: number;
  readonly rss_mb_per_100k_entries: number;
  readonly big_agent_entries: number;
  readonly lookup_big_p50_ms: number;
  readonly lookup_big_p99_ms: number;
  /** The same lookups timed in process CPU time: what they cost when the machine is shared. */
  readonly lookup_big_cpu_p50_ms: number;
  readonly lookup_big_cpu_p99_ms: number;
  readonly lookup_small_p50_ms: number;
  readonly lookup_small_p99_ms: number;
  readonly authorized_entry_p99_ms: number;
  readonly feed_latency_ms: number;
}

const td = trustDomain;
const quiet = { debug() {}, info() {}, warn() {} };

export async function runBackend(o: BackendOptions): Promise<BackendFigures> {
  const dir = mkdtempSync(join(tmpdir(), "signet-bench-entries-"));
  const socket = join(dir, "ds.sock");
  const config = JSON.stringify({
    database_type: o.databaseType,
    connection_string: o.connectionString || join(dir, "datastore.sqlite3"),
    events_poll_interval: "50ms",
  });
  const sizes = { entries: o.entries, agents: o.agents, bigAgentEntries: o.bigAgentEntries };
  const child = spawn(process.execPath, [o.serverScript, config, socket, JSON.stringify(sizes)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const seed_ms = await waitForReady(child.stdout);
    o.log(`  seeded ${o.entries} entries and ${o.agents} agents in ${(seed_ms / 1000).toFixed(1)} s`);
    const grpc = new Client(`unix://${socket}`, credentials.createInsecure(), { ...unlimitedMessageSize });
    // bench/ resolves its own copy of grpc-js types; the channel is the same thing at run time.
    const ds = createClient(DataStoreService, grpc.getChannel() as Parameters<typeof createClient>[1]);
    try {

      const before = settledMemory();
      // As signet-server wires it (server.ts): the load's garbage is handed back once it is in place.
      const cache = new EntryCache({ dataStore: ds, trustDomain: td, logger: quiet, afterLoad: settleMemory });
      const loadStarted = performance.now();
      const loadCpu = process.cpuUsage();
      await cache.start();
      const cache_load_ms = performance.now() - loadStarted;
      const loadCpuUsed = process.cpuUsage(loadCpu);
      const after = settledMemory();
      const cacheEntries = cache.size;
      const heapGrowth = (after.heapUsed - before.heapUsed) / 2 ** 20;
      const rssGrowth = (after.rss - before.rss) / 2 ** 20;

      const big = `spiffe://${td}${agentPath(0)}`;
      const small = `spiffe://${td}${agentPath(Math.floor(o.agents / 2) + 1)}`;
      const bigCount = cache.authorizedEntries(big).length;
      const bigTimes = time(o.lookups, () => cache.authorizedEntries(big));
      const bigCpu = cpuTime(o.lookups, () => cache.authorizedEntries(big));
      const smallTimes = time(o.lookups * 10, () => cache.authorizedEntries(small));
      const bigIds = cache.authorizedEntries(big).map(entryIdOf);
      let k = 0;
      const oneTimes = time(o.lookups * 10, () => cache.authorizedEntry(big, bigIds[(k = (k * 7919 + 1) % bigIds.length)] as string));

      const feedStarted = performance.now();
      const created = await ds.createEntries({ entries: [entry("/feed/probe", agentPath(0), [{ type: "unix", value: "uid:1" }])] });
      if (created.results[0]?.status?.code !== 0) throw new Error(`probe entry not created: ${created.results[0]?.status?.message}`);
      await cache.catchUp(10_000);
      const feed_latency_ms = performance.now() - feedStarted;

      // A sample of API-path writes (one transaction per entry, as SPIRE), and the cache following them.
      const sample = Array.from({ length: o.writeSample }, (_, i) => entry(`/sample/${i}`, agentPath(1), [{ type: "unix", value: `uid:${i}` }]));
      const writeStarted = performance.now();
      const written = await ds.createEntries({ entries: sample });
      const write_ms = performance.now() - writeStarted;
      if (written.results.some((r) => r.status?.code !== 0)) throw new Error("sample writes failed");
      const followStarted = performance.now();
      await cache.catchUp(30_000);
      const follow_ms = performance.now() - followStarted;
      await cache.stop();

      return {
        backend: o.name,
        entries: o.entries,
        agents: o.agents,
        seed_ms,
        api_create_per_s: round((o.writeSample * 1000) / write_ms, 0),
        feed_catch_up_after_writes_ms: round(follow_ms),
        cache_load_ms: round(cache_load_ms),
        cache_load_cpu_ms: round((loadCpuUsed.user + loadCpuUsed.system) / 1000),
        cache_entries: cacheEntries,
        heap_used_growth_mb: round(heapGrowth),
        rss_growth_mb: round(rssGrowth),
        heap_mb_per_100k_entries: round((heapGrowth * 100_000) / cacheEntries),
        rss_mb_per_100k_entries: round((rssGrowth * 100_000) / cacheEntries),
        big_agent_entries: bigCount,
        lookup_big_p50_ms: round(percentile(bigTimes, 50)),
        lookup_big_p99_ms: round(percentile(bigTimes, 99)),
        lookup_big_cpu_p50_ms: round(percentile(bigCpu, 50)),
        lookup_big_cpu_p99_ms: round(percentile(bigCpu, 99)),
        lookup_small_p50_ms: round(percentile(smallTimes, 50), 4),
        lookup_small_p99_ms: round(percentile(smallTimes, 99), 4),
        authorized_entry_p99_ms: round(percentile(oneTimes, 99)),
        feed_latency_ms: round(feed_latency_ms),
      };
    } finally {
      grpc.close();
    }
  } finally {
    child.stdin?.end();
    const exited = once(child, "exit");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

function time(n: number, fn: () => unknown): number[] {
  for (let i = 0; i < Math.min(20, n); i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

function cpuTime(n: number, fn: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    out.push((d.user + d.system) / 1000);
  }
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function settledMemory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage();
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Resolves with the seed time the server reports on its "ready <ms>" line. */
async function waitForReady(stdout: NodeJS.ReadableStream | null): Promise<number> {
  if (!stdout) throw new Error("no stdout from datastore server");
  let text = "";
  for await (const chunk of stdout) {
    text += String(chunk);
    const ready = /ready (\d+)\n/.exec(text);
    if (ready) return Number(ready[1]);
  }
  throw new Error("datastore server exited before it was ready");
}
