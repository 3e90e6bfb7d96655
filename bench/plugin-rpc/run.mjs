#!/usr/bin/env node
// bench/plugin-rpc: what a plugin costs a host, each figure beside its floor
// measured in the same run (this machine's speed drifts by a third).
//
//   unary      host->plugin call through Catalog + SDK (KeyManager GetPublicKeys on
//              @signet/plugin-keymanager-memory) vs a bare grpc-js unary call to a
//              child process over a Unix socket.      target: p50 <= 1.2x floor
//   coldStart  one plugin, spawn -> handshake -> Init -> Configure, vs a bare
//              `node -e 0` spawn -> exit.              target: median <= 1.5x floor
//   parallel6  six plugins loaded by one Catalog.load.  target: median <= 800 ms
//   idlePss    PSS of an idle plugin after 100 calls.  target: <= 20 MiB
//
// Needs `npm run build` first. Usage: node bench/plugin-rpc/run.mjs [--quick]
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Channel, Client, credentials } from "@grpc/grpc-js";
import { Catalog, createLogger } from "@signet/host-common";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const quick = process.argv.includes("--quick");
const rounds = quick ? 2 : 5;
// Unary calls are interleaved in small blocks after a long warm-up of both
// paths, so neither side is measured while its JIT is still warming or while
// the other process was just descheduled.
const unaryRounds = quick ? 4 : 12;
const callsPerRound = quick ? 200 : 500;
const warmupCalls = quick ? 1000 : 3000;
const spawnsPerRound = quick ? 3 : 6;
const log = createLogger({ level: "error" });

const pluginRequest = (name = "memory") => ({
  type: "KeyManager",
  name,
  source: { kind: "package", packageName: "@signet/plugin-keymanager-memory" },
  args: [],
  data: { kind: "none" },
});
const catalogOptions = { side: "server", trustDomain: "example.org", log, liveness: false, searchFrom: [root] };

const median = (xs) => quantile(xs, 0.5);
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

// ---- unary ----
async function startFloor() {
  const child = spawn(process.execPath, [join(here, "floor-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const socket = await new Promise((r) => createInterface({ input: child.stdout }).once("line", r));
  const channel = new Channel(`unix:${socket}`, credentials.createInsecure(), {});
  const client = new Client("unused", credentials.createInsecure(), { channelOverride: channel });
  const id = (b) => b;
  const payload = Buffer.alloc(2);
  const call = () =>
    new Promise((res, rej) => client.makeUnaryRequest("/floor.Floor/Call", id, id, payload, (e, v) => (e ? rej(e) : res(v))));
  return { call, stop: () => (channel.close(), child.kill("SIGKILL")), pid: child.pid };
}

async function timeCalls(call, n) {
  for (let i = 0; i < 50; i++) await call();
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await call();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return t;
}

async function measureUnary() {
  const floor = await startFloor();
  const catalog = await Catalog.load([pluginRequest()], catalogOptions);
  const km = catalog.get("KeyManager", "memory").client(KeyManagerService);
  const pluginCall = () => km.getPublicKeys({});
  const floorT = [];
  const pluginT = [];
  for (let i = 0; i < warmupCalls; i++) {
    await floor.call();
    await pluginCall();
  }
  for (let r = 0; r < unaryRounds; r++) {
    floorT.push(...(await timeCalls(floor.call, callsPerRound)));
    pluginT.push(...(await timeCalls(pluginCall, callsPerRound)));
  }
  floor.stop();
  await catalog.close();
  return {
    floor: { p50: median(floorT), p99: quantile(floorT, 0.99) },
    plugin: { p50: median(pluginT), p99: quantile(pluginT, 0.99) },
  };
}

// ---- cold start ----
async function bareSpawn() {
  const s = performance.now();
  await new Promise((r) => spawn(process.execPath, ["-e", "0"], { stdio: "ignore" }).on("exit", r));
  return performance.now() - s;
}

async function coldStart() {
  const s = performance.now();
  const catalog = await Catalog.load([pluginRequest()], catalogOptions);
  const t = performance.now() - s;
  await catalog.close();
  return t;
}

async function parallel6() {
  const s = performance.now();
  const catalog = await Catalog.load(["a", "b", "c", "d", "e", "f"].map((n) => pluginRequest(n)), catalogOptions);
  const t = performance.now() - s;
  await catalog.close();
  return t;
}

async function measureStarts() {
  const bare = [];
  const cold = [];
  const par = [];
  await coldStart(); // first start may write the code cache
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < spawnsPerRound; i++) {
      bare.push(await bareSpawn());
      cold.push(await coldStart());
    }
    par.push(await parallel6());
  }
  return { bareSpawn: median(bare), coldStart: median(cold), parallel6: median(par) };
}

// ---- memory ----
function pssMiB(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? "0");
  return { pss: kb("Pss") / 1024, rss: kb("Rss") / 1024, anon: kb("Pss_Anon") / 1024 };
}

// Six plugins alive together, then six bare grpc-js servers, each after 100
// calls and 3 s idle, as the reference figure was taken: PSS divides Node's
// shared file pages among the processes mapping them, so the count matters.
async function measureMemory() {
  const catalog = await Catalog.load(["a", "b", "c", "d", "e", "f"].map((n) => pluginRequest(n)), catalogOptions);
  for (const p of catalog.all()) {
    const km = p.client(KeyManagerService);
    for (let i = 0; i < 100; i++) await km.getPublicKeys({});
  }
  await new Promise((r) => setTimeout(r, 3000));
  const each = catalog.all().map((p) => pssMiB(p.pid));
  await catalog.close();

  const floors = await Promise.all([1, 2, 3, 4, 5, 6].map(() => startFloor()));
  for (const f of floors) for (let i = 0; i < 100; i++) await f.call();
  await new Promise((r) => setTimeout(r, 3000));
  const floorEach = floors.map((f) => pssMiB(f.pid));
  for (const f of floors) f.stop();
  const sum = (xs) => ({ pss: median(xs.map((e) => e.pss)), rss: median(xs.map((e) => e.rss)), anon: median(xs.map((e) => e.anon)) });
  return { plugin: sum(each), floor: sum(floorEach) };
}

const unary = await measureUnary();
const starts = await measureStarts();
const memory = await measureMemory();

const rows = [
  ["unary p50 (ms)", unary.plugin.p50, unary.floor.p50, unary.plugin.p50 / unary.floor.p50, "<= 1.2x"],
  ["unary p99 (ms)", unary.plugin.p99, unary.floor.p99, unary.plugin.p99 / unary.floor.p99, "-"],
  ["cold start, spawn->configured (ms)", starts.coldStart, starts.bareSpawn, starts.coldStart / starts.bareSpawn, "<= 1.5x"],
  ["six plugins in parallel (ms)", starts.parallel6, 800, starts.parallel6 / 800, "<= 800 ms"],
  ["idle plugin PSS (MiB)", memory.plugin.pss, 20, memory.plugin.pss / 20, "<= 20 MiB"],
  ["idle bare grpc-js server PSS (MiB)", memory.floor.pss, "-", "-", "(floor)"],
];
const fmt = (v) => (typeof v === "number" ? v.toFixed(2) : v);
console.log(`bench/plugin-rpc (${quick ? "quick" : "full"}; node ${process.version})`);
console.log(["figure".padEnd(36), "measured".padStart(10), "floor/limit".padStart(12), "ratio".padStart(7), "  target"].join(""));
for (const [name, m, f, ratio, target] of rows) {
  console.log([name.padEnd(36), fmt(m).padStart(10), fmt(f).padStart(12), fmt(ratio).padStart(7), `  ${target}`].join(""));
}
console.log(
  `(idle plugin RSS ${memory.plugin.rss.toFixed(1)} MiB, anonymous ${memory.plugin.anon.toFixed(1)} MiB; ` +
    `bare grpc-js server RSS ${memory.floor.rss.toFixed(1)} MiB, anonymous ${memory.floor.anon.toFixed(1)} MiB)`,
);

const out = join(root, "bench", "results");
mkdirSync(out, { recursive: true });
const result = { bench: "plugin-rpc", date: new Date().toISOString(), node: process.version, quick, unary, starts, memory };
writeFileSync(join(out, "plugin-rpc.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join("bench", "results", "plugin-rpc.json")}`);
