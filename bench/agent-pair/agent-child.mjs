// A signet-agent in its own process (the Workload API load in the bench
// process does not share the agent's event loop). Forked with an IPC
// channel; argv[2] is the agent.conf path. It reports, as IPC messages:
//   {type:"ready", startAgentMs, sinceSpawnMs, marks, entries, svids, rss}  once startAgent resolved
//   {type:"failed", error}
// and answers {type:"stats"} with cpu/memory/cache figures, {type:"sync"} by
// running one manager pass, {type:"stop"} by stopping and exiting.
import { createLogger } from "@signet/host-common";
import { loadAgentConfig, startAgent } from "@signet/agent";

const spawnedAt = performance.timeOrigin;
const marks = {};
const t0 = performance.now();
// Timestamps of the agent's own milestones, from its structured log.
const milestones = new Map([
  ["Node attestation was successful", "attested"],
  ["Using the agent SVID from data_dir", "attested"],
  ["Initial sync complete", "initialSync"],
  ["Agent is ready", "ready"],
]);
const log = createLogger({
  level: "info",
  write: (line) => {
    const msg = JSON.parse(line).msg;
    const mark = milestones.get(msg);
    if (mark) marks[mark] = performance.now() - t0;
    if (line.includes('"level":"error"') || line.includes('"level":"warn"')) process.stderr.write(`[agent] ${line}`);
  },
});

let agent;
try {
  const config = await loadAgentConfig(process.argv[2]);
  marks.configLoaded = performance.now() - t0;
  agent = await startAgent(config, { log });
  const startAgentMs = performance.now() - t0;
  process.send({
    type: "ready",
    startAgentMs,
    sinceSpawnMs: Date.now() - spawnedAt,
    marks,
    entries: agent.cache.entryMap.size,
    svids: agent.cache.svidCount,
    rss: process.memoryUsage().rss,
  });
} catch (e) {
  process.send({ type: "failed", error: e instanceof Error ? e.stack : String(e) });
  process.exit(1);
}

process.on("message", async (m) => {
  if (m.type === "stats") {
    const mem = process.memoryUsage();
    process.send({
      type: "stats",
      id: m.id,
      cpu: process.cpuUsage(),
      hr: performance.now(),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      entries: agent.cache.entryMap.size,
      svids: agent.cache.svidCount,
      subscribers: agent.cache.subscriberCount,
      lastSyncSuccess: agent.manager.lastSyncSuccess,
    });
  } else if (m.type === "gc") {
    globalThis.gc?.();
    process.send({ type: "gc", id: m.id });
  } else if (m.type === "stop") {
    await agent.stop();
    process.exit(0);
  }
});
process.once("SIGTERM", () => void agent.stop().then(() => process.exit(0)));
