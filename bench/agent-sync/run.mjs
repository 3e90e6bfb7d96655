#!/usr/bin/env node
// bench/agent-sync: a signet-agent with 10k authorized entries.
//
//   sync       agent process spawn -> startAgent() resolved: node attestation (join token),
//              SyncAuthorizedEntries (revision pages, then the entries by id), X509-SVIDs minted
//              up to the cache bound x509_svid_cache_max_size (default 1000; also 10000) in
//              BatchNewX509SVID calls of 500 (two in flight), Workload API serving.
//                                                                          target: <= 5 s
//   idle CPU   the agent process's CPU (process.cpuUsage) over 30 s right after the sync, as % of
//              one core (syncs every 5 s meanwhile).                       target: <= 2%
//   RSS        the agent process after the sync and after the idle window. target: <= 200 MB
//   keygen     agent-side P-256 key generation per second on one core: generateKey() of
//              host/agent (one SEC1 export, SPKI and PKCS#8 put together from it) vs exporting
//              SPKI and PKCS#8 DER through OpenSSL's encoders, plus the other per-SVID costs of
//              the mint path (CSR; the single exports).
//
// Entries: 10k per agent, created through the server's Entry API (BatchCreateEntry, 1000 per
// call), each with its own selector (unix:uid:<n>), parented to the agent's join-token ID.
// The server runs in its own process with the signing rate limit off: SPIRE's default of 500
// CSRs/s per IP would alone hold 10000 SVIDs back ~19 s (1000: ~1 s), whatever the agent does.
//
// Needs `npm run build`. Usage: node bench/agent-sync/run.mjs [--quick] [--profile DIR] [--bound N]
// [--no-keygen]   (--bound: only that cache bound; --no-keygen: skip the key micro-figures)
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { agentIdOf, childProcesses, procCpuMs, report, sleep, startAgentProcess, startServerProcess, waitForCache } from "../agent-pair/pair.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const profileArg = process.argv.indexOf("--profile");
const profileDir = profileArg > 0 ? resolve(process.argv[profileArg + 1]) : undefined;
const entryCount = 10_000;
const boundArg = process.argv.indexOf("--bound");
const bounds = boundArg > 0 ? [Number(process.argv[boundArg + 1])] : [1000, 10_000];
const skipKeygen = process.argv.includes("--no-keygen");
const idleMs = quick ? 10_000 : 30_000;
const targets = { syncMs: 5000, idleCpuPercent: 2, rssMB: 200 };
const MB = 1e6;

async function oneAgent(server, bound) {
  const token = await server.joinToken();
  const parentId = agentIdOf(token);
  const t = performance.now();
  await server.createEntries(
    Array.from({ length: entryCount }, (_, i) => ({ spiffeId: `spiffe://example.org/bench/sync-${bound}/w${i}`, parentId, selectors: [`unix:uid:${100_000 + i}`] })),
  );
  const createMs = performance.now() - t;
  // The server's entry cache follows the DataStore's change feed; give it a moment.
  await sleep(2000);
  // CPU of the server and its plugins (DataStore, the KeyManager that signs) while the agent syncs
  const serverCpu = () => procCpuMs(server.pid) + childProcesses(server.pid).reduce((n, p) => n + procCpuMs(p.pid), 0);
  const serverCpu0 = serverCpu();
  const agent = await startAgentProcess(server, {
    token,
    extraConfig: `    x509_svid_cache_max_size = ${bound}`,
    execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `agent-sync-${bound}.cpuprofile`] : [],
  });
  try {
    const r = agent.ready;
    const want = Math.min(bound, entryCount);
    // Complete = every entry cached and SVIDs up to the bound; normally true when startAgent resolves.
    const complete = r.entries >= entryCount && r.svids >= want;
    let completeMs = r.spawnToReadyMs;
    if (!complete) {
      const t0 = Date.now();
      await waitForCache(agent, { entries: entryCount, svids: want });
      completeMs += Date.now() - t0;
    }
    const serverCpuDuringSyncMs = serverCpu() - serverCpu0;
    const s0 = await agent.stats();
    // the agent's own CPU from process start to sync complete (minus the idle window below)
    const agentCpuToSyncMs = (s0.cpu.user + s0.cpu.system) / 1000;
    const plugins0 = agent.pluginRss();
    const pluginCpu0 = plugins0.map((p) => procCpuMs(p.pid));
    await sleep(idleMs);
    const s1 = await agent.stats();
    const cpuMs = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1000;
    const wallMs = s1.hr - s0.hr;
    await agent.gc();
    const s2 = await agent.stats();
    const plugins = agent.pluginRss().map((p, i) => ({ ...p, idleCpuPercent: ((procCpuMs(p.pid) - pluginCpu0[i]) / wallMs) * 100 }));
    return {
      bound,
      entries: s1.entries,
      svids: s1.svids,
      entryCreateMs: createMs,
      spawnToReadyMs: r.spawnToReadyMs,
      startAgentMs: r.startAgentMs,
      marks: r.marks,
      readyWithAll: complete,
      agentCpuToSyncMs,
      serverCpuDuringSyncMs,
      syncCompleteMs: completeMs,
      idleWindowMs: wallMs,
      idleCpuMs: cpuMs,
      idleCpuPercent: (cpuMs / wallMs) * 100,
      syncsDuringIdle: s1.lastSyncSuccess > s0.lastSyncSuccess,
      rssAfterSyncMB: s0.rss / MB,
      rssAfterIdleMB: s1.rss / MB,
      rssAfterGcMB: s2.rss / MB,
      heapUsedAfterGcMB: s2.heapUsed / MB,
      externalAfterGcMB: s2.external / MB,
      arrayBuffersAfterGcMB: s2.arrayBuffers / MB,
      plugins,
    };
  } finally {
    await agent.stop();
  }
}

/** One keygen.mjs figure in a child process; `hung` when it does not finish within the limit. */
function keyFigure(name, ms) {
  return new Promise((resolveFigure) => {
    const child = spawn(process.execPath, [join(here, "keygen.mjs"), name, String(ms)], { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let progress = 0;
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      const last = String(d).trim().split("\n").at(-1);
      if (/^\d+$/.test(last)) progress = Number(last);
      else process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms + 20_000);
    child.on("exit", () => {
      clearTimeout(timer);
      if (out.trim() !== "") resolveFigure(JSON.parse(out));
      else resolveFigure({ name, hung: true, opsBeforeHang: progress, perSec: Number.NaN });
    });
  });
}

async function keygen() {
  const ms = quick ? 1000 : 3000;
  const out = {};
  for (const name of ["keygenOnly", "generateKey", "keygenExportDer", "exportDerOnly", "exportJwkOnly", "exportPkcs8", "exportSec1", "csr"]) {
    out[name] = await keyFigure(name, ms);
    // a JWK export can deadlock (see keygen.mjs): ask a second time to tell a hang from a fluke
    if (out[name].hung) out[`${name}Retry`] = await keyFigure(name, ms);
  }
  return out;
}

console.log(`bench/agent-sync (${quick ? "quick" : "full"}; node ${process.version}); ${entryCount} entries per agent, idle window ${idleMs / 1000} s`);
const server = await startServerProcess({ signingRateLimit: false });
const runs = [];
try {
  for (const bound of bounds) {
    const r = await oneAgent(server, bound);
    runs.push(r);
    console.log(
      `  bound ${bound}: ${r.entries} entries, ${r.svids} SVIDs; spawn->ready ${r.spawnToReadyMs} ms (startAgent ${r.startAgentMs.toFixed(0)} ms: attested at ${r.marks.attested?.toFixed(0)}, sync done at ${r.marks.initialSync?.toFixed(0)}); idle CPU ${r.idleCpuPercent.toFixed(2)}%; RSS ${r.rssAfterIdleMB.toFixed(0)} MB`,
    );
  }
} finally {
  await server.stop();
}
if (!skipKeygen) console.log("  key generation micro-figures…");
const keys = skipKeygen ? undefined : await keygen();

const rows = [];
for (const r of runs) {
  rows.push([`sync complete, bound ${r.bound} (ms)`, r.syncCompleteMs, targets.syncMs, r.syncCompleteMs / targets.syncMs, r.syncCompleteMs <= targets.syncMs ? "met (<= 5 s)" : "NOT met (<= 5 s)"]);
  rows.push([`  startAgent(): attest / initial sync done (ms)`, `${r.marks.attested?.toFixed(0)} / ${r.marks.initialSync?.toFixed(0)}`, "", "", ""]);
  rows.push([`  CPU to sync: agent / server+plugins (ms)`, `${r.agentCpuToSyncMs.toFixed(0)} / ${r.serverCpuDuringSyncMs.toFixed(0)}`, "", "", ""]);
  rows.push([`idle CPU, bound ${r.bound} (% of a core)`, r.idleCpuPercent, targets.idleCpuPercent, r.idleCpuPercent / targets.idleCpuPercent, r.idleCpuPercent <= targets.idleCpuPercent ? "met (<= 2%)" : "NOT met (<= 2%)"]);
  const rss = Math.max(r.rssAfterSyncMB, r.rssAfterIdleMB);
  rows.push([`RSS, bound ${r.bound} (MB, max of after sync/idle)`, rss, targets.rssMB, rss / targets.rssMB, rss <= targets.rssMB ? "met (<= 200 MB)" : "NOT met (<= 200 MB)"]);
  rows.push([`  RSS after GC / heap used / external (MB)`, `${r.rssAfterGcMB.toFixed(0)} / ${r.heapUsedAfterGcMB.toFixed(0)} / ${r.externalAfterGcMB.toFixed(0)}`, "", "", r.plugins.map((p) => `${p.name.split("/")[0]} ${p.rssMiB.toFixed(0)} MiB ${p.idleCpuPercent.toFixed(2)}%`).join(", ")]);
}
if (keys) keyRows(rows, keys);
report("agent-sync", rows, {
  quick,
  entryCount,
  idleMs,
  serverSigningRateLimit: false,
  runs,
  keygen: keys,
  targets,
  met: Object.fromEntries(
    runs.flatMap((r) => [
      [`sync_${r.bound}`, r.syncCompleteMs <= targets.syncMs],
      [`idle_cpu_${r.bound}`, r.idleCpuPercent <= targets.idleCpuPercent],
      [`rss_${r.bound}`, Math.max(r.rssAfterSyncMB, r.rssAfterIdleMB) <= targets.rssMB],
    ]),
  ),
});

/** The key micro-figures as report rows. */
function keyRows(rows, keys) {
  const rate = (f) => (f.hung ? `HUNG after ${f.opsBeforeHang}` : f.perSec);
  rows.push(["P-256 keygen only (/s, one core)", rate(keys.keygenOnly), "", "", ""]);
  rows.push(["generateKey('ec-p256'): keygen + SEC1 -> SPKI, PKCS#8 (/s)", rate(keys.generateKey), keys.keygenExportDer.perSec, keys.generateKey.perSec / keys.keygenExportDer.perSec, "vs keygen + export SPKI and PKCS#8 DER"]);
  const us = (f) => (f.hung ? `HUNG after ${f.opsBeforeHang}` : (1e6 / f.perSec).toFixed(1));
  rows.push(["  export SPKI DER / PKCS#8 DER / SEC1 DER (µs)", `${us(keys.exportDerOnly)} / ${us(keys.exportPkcs8)} / ${us(keys.exportSec1)}`, "", "", ""]);
  rows.push(["  export JWK (µs)", us(keys.exportJwkOnlyRetry && !keys.exportJwkOnlyRetry.hung ? keys.exportJwkOnlyRetry : keys.exportJwkOnly), "", "", keys.exportJwkOnly.hung ? "JWK export hung (Node 20: JWK export vs GC of the keygen job)" : ""]);
  rows.push(["  CSR (µs)", us(keys.csr), "", "", ""]);
}
