#!/usr/bin/env node
// bench/rotation-fanout: 1000 open FetchX509SVID streams on a running
// signet-agent all receive a rotated SVID; the figure is the time from the
// first stream receiving the new SVID to the last one (target: <= 1 s).
//
// The workload entry has x509_svid_ttl 20 s, so the agent rotates its SVID at
// about half-life (SPIRE's rule, with ±10% jitter) every few seconds without
// any outside trigger. All streams are this process's (same uid, same
// entry), so one rotation wakes all 1000 subscribers. Two layouts:
//   shared     1000 streams over 10 connections (100 HTTP/2 streams each)
//   separate   1000 connections, one stream each
// Arrival time is taken in the client's deserializer (when grpc-js hands the
// message over), before any decoding; messages are decoded afterwards to
// check every stream got the same new serial. Server and agent each run in
// a child process; the streams live in this process.
//
// Needs `npm run build`. Usage: node bench/rotation-fanout/run.mjs [--quick] [--profile DIR]
import { X509Certificate } from "node:crypto";
import { resolve } from "node:path";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { X509SVIDResponse } from "@signet/proto/workload/workload";
import { agentIdOf, procCpuMs, quantile, report, sleep, startAgentProcess, startServerProcess } from "../agent-pair/pair.mjs";

const quick = process.argv.includes("--quick");
const profileArg = process.argv.indexOf("--profile");
const profileDir = profileArg > 0 ? resolve(process.argv[profileArg + 1]) : undefined;
const streams = 1000;
const rotations = quick ? 2 : 4;
const layouts = [
  { name: "shared", connections: 10 },
  { name: "separate", connections: streams },
];
const ttlSeconds = 20;
const target = 1000;

const id = (b) => b;
const header = () => {
  const m = new Metadata();
  m.set("workload.spiffe.io", "true");
  return m;
};

/** Opens `n` streams over `connections` channels; each keeps [{t, msg}] of what it received. */
async function openStreams(socketTarget, n, connections) {
  const clients = Array.from({ length: connections }, () => new Client(socketTarget, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
  const all = [];
  const open = (i) =>
    new Promise((res, rej) => {
      const s = { got: [], call: undefined };
      const deserialize = (buf) => {
        s.got.push({ t: performance.now(), msg: buf });
        return buf;
      };
      s.call = clients[i % connections].makeServerStreamRequest("/SpiffeWorkloadAPI/FetchX509SVID", id, deserialize, Buffer.alloc(0), header(), {});
      s.call.once("data", () => res(s));
      s.call.on("data", () => {});
      s.call.on("error", (e) => (e.code === status.CANCELLED ? undefined : rej(e)));
      all.push(s);
    });
  // open in waves of 100 so the agent's attestor is not asked 1000 times at once
  for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => open(i + k)));
  return {
    streams: all,
    close() {
      for (const s of all) s.call.cancel();
      for (const c of clients) c.close();
    },
  };
}

const serialOf = (() => {
  const memo = new Map();
  return (msg) => {
    const key = msg.toString("base64");
    let s = memo.get(key);
    if (!s) {
      s = new X509Certificate(X509SVIDResponse.decode(msg).svids[0].x509Svid).serialNumber;
      memo.set(key, s);
    }
    return s;
  };
})();

/** Per stream: the messages that carried a serial different from the one before (the SVID changed). */
function changesOf(stream) {
  stream.changes ??= [];
  stream.checked ??= 0;
  stream.duplicates ??= 0;
  for (; stream.checked < stream.got.length; stream.checked++) {
    const { t, msg } = stream.got[stream.checked];
    const serial = serialOf(msg);
    const last = stream.changes.at(-1);
    if (last?.serial === serial) stream.duplicates++;
    else stream.changes.push({ t, serial });
  }
  return stream.changes;
}

/**
 * Waits for `count` rotations seen by every stream. A rotation may happen while the streams
 * open, so the baseline is the serial all streams agree on; each rotation then is the next
 * serial, and its figure the spread from the first stream that got it to the last.
 */
async function measureRotations(set, agentPid, count) {
  const out = [];
  const latest = () => new Set(set.streams.map((s) => changesOf(s).at(-1).serial));
  const until = async (cond, ms, what) => {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  };
  await until(() => latest().size === 1, 4 * ttlSeconds * 1000, "all streams to hold the same SVID");
  let current = [...latest()][0];
  const dup0 = set.streams.reduce((n, s) => n + s.duplicates, 0);
  // the agent's CPU time, sampled every 50 ms, to charge each rotation what the agent spent on it
  const cpuSamples = [];
  const sampler = setInterval(() => cpuSamples.push({ t: performance.now(), cpu: procCpuMs(agentPid) }), 50);
  const cpuAt = (t) => (cpuSamples.findLast((x) => x.t <= t) ?? cpuSamples[0]).cpu;
  const t0 = performance.now();
  for (let r = 0; r < count; r++) {
    const rotated = () => set.streams.some((s) => changesOf(s).at(-1).serial !== current);
    await until(rotated, 4 * ttlSeconds * 1000, "a rotation");
    const next = set.streams.map((s) => changesOf(s).at(-1).serial).find((x) => x !== current);
    const arrivedAt = (s) => changesOf(s).find((c) => c.serial === next)?.t;
    try {
      await until(() => set.streams.every((s) => arrivedAt(s) !== undefined), 30_000, "every stream to get the rotated SVID");
    } catch (e) {
      const missing = set.streams.filter((s) => arrivedAt(s) === undefined).length;
      throw new Error(`${missing} of ${set.streams.length} streams did not get the rotated SVID within 30 s`, { cause: e });
    }
    await sleep(200);
    const arrivals = set.streams.map(arrivedAt);
    const first = Math.min(...arrivals);
    // from 1 s before the first arrival (the mint: key, CSR, BatchNewX509SVID) to 200 ms after the last
    const agentCpuMs = cpuAt(first + Math.max(...arrivals.map((t) => t - first)) + 200) - cpuAt(first - 1000);
    const latencies = arrivals.map((t) => t - first);
    out.push({ spreadMs: Math.max(...latencies), p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), agentCpuMsAround: agentCpuMs, serial: next });
    console.log(`  rotation ${r + 1}: first -> last ${Math.max(...latencies).toFixed(1)} ms (p50 ${quantile(latencies, 0.5).toFixed(1)}, p99 ${quantile(latencies, 0.99).toFixed(1)}); agent CPU ${agentCpuMs} ms`);
    current = next;
  }
  clearInterval(sampler);
  const duplicates = set.streams.reduce((n, s) => n + s.duplicates, 0) - dup0;
  return { rotations: out, duplicateMessages: duplicates, overSeconds: (performance.now() - t0) / 1000 };
}

const server = await startServerProcess();
const token = await server.joinToken();
await server.createEntries([{ spiffeId: "spiffe://example.org/bench/fanout", parentId: agentIdOf(token), selectors: [`unix:uid:${process.getuid()}`], x509SvidTtl: ttlSeconds }]);
const agent = await startAgentProcess(server, { token, execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [] });
const result = { quick, streams, ttlSeconds, layouts: {} };
console.log(`bench/rotation-fanout (${quick ? "quick" : "full"}; node ${process.version}); ${streams} streams, entry x509_svid_ttl ${ttlSeconds}s`);
try {
  for (const layout of layouts) {
    const t = performance.now();
    const set = await openStreams(`unix:${agent.socketPath}`, streams, layout.connections);
    const openMs = performance.now() - t;
    const s = await agent.stats();
    if (s.subscribers < streams) throw new Error(`agent has ${s.subscribers} subscribers, expected ${streams}`);
    console.log(`${layout.name}: ${streams} streams over ${layout.connections} connection(s), opened in ${openMs.toFixed(0)} ms; agent RSS ${(s.rss / 2 ** 20).toFixed(0)} MiB`);
    // A rotation may be under way while the streams open: the first rotation counted is the next whole one.
    const m = await measureRotations(set, agent.pid, rotations);
    const perRotation = m.rotations;
    result.layouts[layout.name] = {
      connections: layout.connections,
      openAllMs: openMs,
      agentRssMiB: s.rss / 2 ** 20,
      rotations: perRotation,
      maxSpreadMs: Math.max(...perRotation.map((r) => r.spreadMs)),
      // messages that repeated the SVID a stream already had (sent although nothing it sees changed)
      duplicateMessages: m.duplicateMessages,
      duplicatesPerStreamPerMinute: (m.duplicateMessages / streams / m.overSeconds) * 60,
    };
    console.log(`  ${m.duplicateMessages} messages repeated an SVID the stream already had (${m.overSeconds.toFixed(0)} s)`);
    set.close();
    await sleep(500);
  }
} finally {
  await agent.stop();
  await server.stop();
}

const rows = [];
for (const layout of layouts) {
  const l = result.layouts[layout.name];
  rows.push([`${layout.name} (${l.connections} conn): max first->last (ms)`, l.maxSpreadMs, target, l.maxSpreadMs / target, l.maxSpreadMs <= target ? "met (<= 1 s)" : "NOT met (<= 1 s)"]);
  rows.push([`  p99 arrival after first, worst rotation (ms)`, Math.max(...l.rotations.map((r) => r.p99Ms)), "", "", ""]);
  rows.push([`  repeated (unchanged) messages per stream per minute`, l.duplicatesPerStreamPerMinute, "", "", "expected 0"]);
  rows.push([`  agent CPU per rotation, mean (ms)`, l.rotations.reduce((a, r) => a + r.agentCpuMsAround, 0) / l.rotations.length, "", "", ""]);
}
report("rotation-fanout", rows, { ...result, targetMs: target, met: Object.fromEntries(layouts.map((l) => [l.name, result.layouts[l.name].maxSpreadMs <= target])) });
