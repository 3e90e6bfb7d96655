#!/usr/bin/env node
// bench/workload-api: Workload API latency of a running signet-agent, each
// figure beside its floor measured in the same run.
//
//   x509 first response   FetchX509SVID, connect -> first message, with 1, 16 and 64 clients
//                         at once; every sample opens a NEW connection (own grpc-js channel,
//                         local subchannel pool), so the agent reads the peer from the kernel
//                         and attests it (unix WorkloadAttestor plugin) each time. The SVID
//                         is cached (minted during the agent's initial sync).
//                         Floor: a bare grpc-js server stream (floor-server.mjs, own process)
//                         sending one canned message of the same size, same client code.
//                         Targets: p50 <= 1.5x, p99 <= 2x the floor.
//                         Also reported: CPU per sample of the agent, its attestor plugin, the floor
//                         process and the clients (this process) on each side, to tell apart
//                         a slower path from a machine that was busy.
//   jwt cache hit         FetchJWTSVID for an audience already cached, one call in flight on a
//                         kept connection (attestation per call as always) vs a bare unary call
//                         answering the same number of bytes.  Target: p50 <= 1.5x.
//
// Processes: signet-server and signet-agent each in a child process (the client load does not
// share the agent's event loop), the floor in another; the clients run in this process with
// identity deserializers for both sides. Blocks of agent and floor samples alternate so that
// drift of this shared 2-core machine hits both.
//
// Needs `npm run build`. Usage: node bench/workload-api/run.mjs [--quick] [--profile DIR]
//   --profile DIR   run the agent under --cpu-prof, profiles written to DIR on exit (the
//                   profiler's SIGPROF interrupts poll(pidfd) now and then; the agent asks again).
import { fork } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { X509Certificate } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { JWTSVIDRequest, JWTSVIDResponse, X509SVIDResponse } from "@signet/proto/workload/workload";
import { agentIdOf, childProcesses, procCpuMs, quantile, report, startAgentProcess, startServerProcess } from "../agent-pair/pair.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const profileArg = process.argv.indexOf("--profile");
const profileDir = profileArg > 0 ? resolve(process.argv[profileArg + 1]) : undefined;
const levels = [1, 16, 64];
const rounds = quick ? 2 : 4;
// samples per level per round and side
const perRound = { 1: quick ? 100 : 250, 16: quick ? 320 : 800, 64: quick ? 640 : 1600 };
const jwtRounds = quick ? 4 : 10;
const jwtPerRound = quick ? 200 : 500;

const id = (b) => b;
const noArgs = Buffer.alloc(0);
const clientOptions = { "grpc.use_local_subchannel_pool": 1 };
const header = () => {
  const m = new Metadata();
  m.set("workload.spiffe.io", "true");
  return m;
};

/** One sample: new channel -> stream -> first message; returns ms and the message. */
function firstMessage(target, path, metadata) {
  return new Promise((resolveSample, reject) => {
    const t = performance.now();
    const client = new Client(target, credentials.createInsecure(), clientOptions);
    const call = client.makeServerStreamRequest(path, id, id, noArgs, metadata, {});
    call.once("data", (msg) => {
      const ms = performance.now() - t;
      call.cancel();
      client.close();
      resolveSample({ ms, msg });
    });
    call.on("error", (e) => {
      if (e.code !== status.CANCELLED) {
        client.close();
        reject(e);
      }
    });
  });
}

/** `n` samples spread over `concurrency` workers; latencies in ms. */
async function sampleBlock(concurrency, n, one) {
  const out = [];
  let left = n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        out.push((await one()).ms);
      }
    }),
  );
  return out;
}

function unary(client, path, body, metadata) {
  return new Promise((res, rej) => {
    const t = performance.now();
    client.makeUnaryRequest(path, id, id, body, metadata, {}, (e, v) => (e ? rej(e) : res({ ms: performance.now() - t, msg: v })));
  });
}

function startFloor(streamBytes, unaryBytes) {
  const child = fork(join(here, "floor-server.mjs"), [String(streamBytes), String(unaryBytes)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((res) =>
    child.once("message", ({ socket }) =>
      res({
        pid: child.pid,
        target: `unix:${socket}`,
        connections: () => new Promise((r) => (child.once("message", (m) => r(m.connections)), child.send({ type: "count" }))),
        stop: () => child.kill("SIGKILL"),
      }),
    ),
  );
}

const jwtRequest = Buffer.from(JWTSVIDRequest.encode({ audience: ["bench"], spiffeId: "" }).finish());
const x509Path = "/SpiffeWorkloadAPI/FetchX509SVID";
const jwtPath = "/SpiffeWorkloadAPI/FetchJWTSVID";
/** CPU time (ms) this process (the clients) has used so far. */
const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const summary = (xs) => ({ n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length });

const server = await startServerProcess();
const token = await server.joinToken();
const uid = process.getuid();
await server.createEntries([{ spiffeId: "spiffe://example.org/bench/workload", parentId: agentIdOf(token), selectors: [`unix:uid:${uid}`], hint: "bench" }]);
const agent = await startAgentProcess(server, { token, execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [] });
const agentTarget = `unix:${agent.socketPath}`;
const attestor = childProcesses(agent.pid).find((p) => p.name.includes("workloadattestor-unix"));
const result = { quick, rounds, loadavg1AtStart: loadavg()[0], x509: {}, jwt: {} };
let floor;
try {
  // The real first message: checks the agent answers this uid's SVID, and sizes the floor's message.
  const first = await firstMessage(agentTarget, x509Path, header());
  const decoded = X509SVIDResponse.decode(first.msg);
  if (decoded.svids[0]?.spiffeId !== "spiffe://example.org/bench/workload") throw new Error(`unexpected first message: ${JSON.stringify(decoded.svids.map((s) => s.spiffeId))}`);
  const serial = new X509Certificate(decoded.svids[0].x509Svid).serialNumber;
  const jwtClient = new Client(agentTarget, credentials.createInsecure(), clientOptions);
  const jwtMiss = await unary(jwtClient, jwtPath, jwtRequest, header());
  const jwtHit = await unary(jwtClient, jwtPath, jwtRequest, header());
  if (!jwtHit.msg.equals(jwtMiss.msg)) throw new Error("second FetchJWTSVID was not served from the cache");
  if (JWTSVIDResponse.decode(jwtHit.msg).svids[0]?.spiffeId !== "spiffe://example.org/bench/workload") throw new Error("unexpected JWT-SVID");
  floor = await startFloor(first.msg.length, jwtHit.msg.length);
  result.x509ResponseBytes = first.msg.length;
  result.jwtResponseBytes = jwtHit.msg.length;
  result.jwtFirstFetchMs = jwtMiss.ms;
  console.log(`bench/workload-api (${quick ? "quick" : "full"}; node ${process.version}); X509SVIDResponse ${first.msg.length} B, JWTSVIDResponse ${jwtHit.msg.length} B; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);

  const agentSample = () => firstMessage(agentTarget, x509Path, header());
  const floorSample = () => firstMessage(floor.target, "/floor.Floor/Stream", new Metadata());
  // warm-up: JIT on both sides, the attestor plugin's connection
  await sampleBlock(4, 200, agentSample);
  await sampleBlock(4, 200, floorSample);
  const floorConnectionsBefore = await floor.connections();

  for (const c of levels) {
    const a = [];
    const f = [];
    let agentCpu = 0;
    let attestorCpu = 0;
    let floorCpu = 0;
    let clientCpuAgent = 0;
    let clientCpuFloor = 0;
    for (let r = 0; r < rounds; r++) {
      const f0 = procCpuMs(floor.pid);
      const cf0 = clientCpuMs();
      f.push(...(await sampleBlock(c, perRound[c], floorSample)));
      clientCpuFloor += clientCpuMs() - cf0;
      floorCpu += procCpuMs(floor.pid) - f0;
      const cpu0 = procCpuMs(agent.pid);
      const att0 = attestor ? procCpuMs(attestor.pid) : 0;
      const ca0 = clientCpuMs();
      a.push(...(await sampleBlock(c, perRound[c], agentSample)));
      clientCpuAgent += clientCpuMs() - ca0;
      agentCpu += procCpuMs(agent.pid) - cpu0;
      attestorCpu += attestor ? procCpuMs(attestor.pid) - att0 : 0;
    }
    result.x509[c] = {
      agent: summary(a),
      floor: summary(f),
      agentCpuMsPerSample: agentCpu / a.length,
      attestorCpuMsPerSample: attestorCpu / a.length,
      floorCpuMsPerSample: floorCpu / f.length,
      clientCpuMsPerAgentSample: clientCpuAgent / a.length,
      clientCpuMsPerFloorSample: clientCpuFloor / f.length,
    };
    console.log(`  ${c} client(s): agent p50 ${result.x509[c].agent.p50.toFixed(2)} p99 ${result.x509[c].agent.p99.toFixed(2)} ms; floor p50 ${result.x509[c].floor.p50.toFixed(2)} p99 ${result.x509[c].floor.p99.toFixed(2)} ms`);
  }
  const floorSamples = levels.reduce((n, c) => n + rounds * perRound[c], 0);
  result.floorNewConnections = (await floor.connections()) - floorConnectionsBefore;
  if (result.floorNewConnections !== floorSamples) throw new Error(`floor saw ${result.floorNewConnections} connections for ${floorSamples} samples: samples shared connections`);
  const s = await agent.stats();
  result.agentSvidSerialUnchanged = serial === new X509Certificate(X509SVIDResponse.decode((await agentSample()).msg).svids[0].x509Svid).serialNumber;
  result.agentSubscribersAfter = s.subscribers;

  // JWT cache hits, one in flight, kept connections; alternate blocks.
  const floorClient = new Client(floor.target, credentials.createInsecure(), clientOptions);
  const jwtAgent = () => unary(jwtClient, jwtPath, jwtRequest, header());
  const jwtFloor = () => unary(floorClient, "/floor.Floor/Unary", jwtRequest, new Metadata());
  await sampleBlock(1, 500, jwtAgent);
  await sampleBlock(1, 500, jwtFloor);
  const ja = [];
  const jf = [];
  let jwtCpu = 0;
  for (let r = 0; r < jwtRounds; r++) {
    jf.push(...(await sampleBlock(1, jwtPerRound, jwtFloor)));
    const cpu0 = procCpuMs(agent.pid);
    ja.push(...(await sampleBlock(1, jwtPerRound, jwtAgent)));
    jwtCpu += procCpuMs(agent.pid) - cpu0;
  }
  result.jwt = { agent: summary(ja), floor: summary(jf), agentCpuMsPerCall: jwtCpu / ja.length };
  jwtClient.close();
  floorClient.close();
} finally {
  floor?.stop();
  await agent.stop();
  await server.stop();
}

const rows = [];
for (const c of levels) {
  const { agent: a, floor: f } = result.x509[c];
  rows.push([`FetchX509SVID first msg, ${c} clients, p50 (ms)`, a.p50, f.p50, a.p50 / f.p50, a.p50 / f.p50 <= 1.5 ? "met (<= 1.5x)" : "NOT met (<= 1.5x)"]);
  rows.push([`FetchX509SVID first msg, ${c} clients, p99 (ms)`, a.p99, f.p99, a.p99 / f.p99, a.p99 / f.p99 <= 2 ? "met (<= 2x)" : "NOT met (<= 2x)"]);
}
const j = result.jwt;
rows.push(["FetchJWTSVID cache hit p50 (ms)", j.agent.p50, j.floor.p50, j.agent.p50 / j.floor.p50, j.agent.p50 / j.floor.p50 <= 1.5 ? "met (<= 1.5x)" : "NOT met (<= 1.5x)"]);
rows.push(["FetchJWTSVID cache hit p99 (ms)", j.agent.p99, j.floor.p99, j.agent.p99 / j.floor.p99, "-"]);
for (const c of levels) {
  const x = result.x509[c];
  rows.push([`  agent CPU per X509 sample, ${c} clients (ms)`, x.agentCpuMsPerSample, x.floorCpuMsPerSample, "", `attestor plugin ${x.attestorCpuMsPerSample.toFixed(2)} ms; clients ${x.clientCpuMsPerAgentSample.toFixed(2)} vs ${x.clientCpuMsPerFloorSample.toFixed(2)} ms`]);
}
rows.push(["  agent CPU per JWT call (ms)", j.agentCpuMsPerCall, "", "", ""]);
report("workload-api", rows, {
  ...result,
  targets: { x509P50Ratio: 1.5, x509P99Ratio: 2, jwtP50Ratio: 1.5 },
  met: {
    ...Object.fromEntries(levels.flatMap((c) => [[`x509_${c}_p50`, result.x509[c].agent.p50 / result.x509[c].floor.p50 <= 1.5], [`x509_${c}_p99`, result.x509[c].agent.p99 / result.x509[c].floor.p99 <= 2]])),
    jwt_p50: j.agent.p50 / j.floor.p50 <= 1.5,
  },
});
