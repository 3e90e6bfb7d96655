// What the agent benchmarks share: a signet-server and a signet-agent, each
// in its own child process from the built dist, the server's local API
// (join tokens, BatchCreateEntry, bundle), small statistics helpers and the
// JSON result writer. Needs `npm run build`.
import { fork, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Channel, credentials } from "@grpc/grpc-js";
import { createClient } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { Entry } from "@signet/proto/spire/api/types/entry";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const trustDomain = "example.org";

/**
 * signet-server (SQLite DataStore, memory KeyManager) in a child process.
 * `signingRateLimit: false` turns off the 500 CSRs/s per-IP limit so the
 * agent's own cost is what the figures show.
 */
export async function startServerProcess({ x509SvidTtl = "1h", signingRateLimit = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "signet-bench-server-"));
  const socketPath = join(dir, "server.sock");
  const configPath = join(dir, "server.conf");
  writeFileSync(
    configPath,
    `server {
    bind_address = "127.0.0.1"
    bind_port = "0"
    socket_path = "${socketPath}"
    trust_domain = "${trustDomain}"
    data_dir = "${dir}"
    default_x509_svid_ttl = "${x509SvidTtl}"
${signingRateLimit ? "" : "    ratelimit { signing = false }\n"}}
plugins {
    DataStore "sql" { plugin_data { database_type = "sqlite3", connection_string = "${join(dir, "datastore.sqlite3")}" } }
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
}
`,
  );
  const child = spawn(process.execPath, [...binV8Flags("host/server/src/cli/main.ts"), join(here, "server-child.mjs"), configPath], { stdio: ["ignore", "pipe", "inherit"], cwd: root });
  const line = await firstLine(child, "signet-server");
  const { tcpPort } = JSON.parse(line);
  const channel = new Channel(`unix://${socketPath}`, credentials.createInsecure(), { "grpc.max_receive_message_length": 64 << 20, "grpc.max_send_message_length": 64 << 20 });
  const agents = createClient(AgentService, channel);
  const entries = createClient(EntryService, channel);
  const bundles = createClient(BundleService, channel);
  return {
    dir,
    pid: child.pid,
    tcpPort,
    async joinToken() {
      return (await agents.createJoinToken({ ttl: 600, token: "", agentId: undefined })).value;
    },
    /** Creates entries through BatchCreateEntry, `batch` at a time; returns their ids. */
    async createEntries(list, batch = 1000) {
      const ids = [];
      for (let i = 0; i < list.length; i += batch) {
        const res = await entries.batchCreateEntry({
          entries: list.slice(i, i + batch).map((e) =>
            Entry.fromPartial({
              spiffeId: idOf(e.spiffeId),
              parentId: idOf(e.parentId),
              selectors: e.selectors.map((s) => ({ type: s.slice(0, s.indexOf(":")), value: s.slice(s.indexOf(":") + 1) })),
              x509SvidTtl: e.x509SvidTtl ?? 0,
              hint: e.hint ?? "",
            }),
          ),
          outputMask: undefined,
        });
        for (const r of res.results) {
          if (r.status?.code !== 0) throw new Error(`entry create failed: ${r.status?.message}`);
          ids.push(r.entry.id);
        }
      }
      return ids;
    },
    async bundlePem() {
      const b = await bundles.getBundle({ outputMask: undefined });
      return b.x509Authorities.map((a) => new X509Certificate(a.asn1).toString()).join("");
    },
    async stop() {
      channel.close();
      child.kill("SIGTERM");
      await exited(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const agentIdOf = (token) => `spiffe://${trustDomain}/spire/agent/join_token/${token}`;

/**
 * signet-agent (memory KeyManager, unix WorkloadAttestor) in a child
 * process, started with `token`. Resolves once startAgent() resolved
 * (attested, initial sync done, Workload API serving).
 * `extraConfig`: more lines for the agent block; `execArgv`: e.g. --cpu-prof.
 */
export async function startAgentProcess(server, { token, extraConfig = "", execArgv = [] }) {
  const dir = mkdtempSync(join(tmpdir(), "signet-bench-agent-"));
  const socketPath = join(dir, "public", "api.sock");
  const bundlePath = join(dir, "bundle.pem");
  writeFileSync(bundlePath, await server.bundlePem());
  const configPath = join(dir, "agent.conf");
  writeFileSync(
    configPath,
    `agent {
    trust_domain = "${trustDomain}"
    server_address = "127.0.0.1"
    server_port = ${server.tcpPort}
    socket_path = "${socketPath}"
    data_dir = "${join(dir, "data")}"
    trust_bundle_path = "${bundlePath}"
    join_token = "${token}"
    log_level = "WARN"
${extraConfig}
}
plugins {
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
    WorkloadAttestor "unix" {}
}
`,
  );
  const spawnedAt = Date.now();
  const child = fork(join(here, "agent-child.mjs"), [configPath], { execArgv: ["--expose-gc", ...binV8Flags("host/agent/src/cli/main.ts"), ...execArgv], stdio: ["ignore", "inherit", "inherit", "ipc"], cwd: dir });
  const ready = await new Promise((resolve, reject) => {
    child.once("message", (m) => (m.type === "ready" ? resolve(m) : reject(new Error(`agent failed: ${m.error}`))));
    child.once("exit", (code) => reject(new Error(`agent exited (${code}) before it was ready`)));
  });
  let seq = 0;
  const ask = (type) =>
    new Promise((resolve) => {
      const id = ++seq;
      const on = (m) => {
        if (m.id === id) {
          child.off("message", on);
          resolve(m);
        }
      };
      child.on("message", on);
      child.send({ type, id });
    });
  return {
    dir,
    pid: child.pid,
    socketPath,
    ready: { ...ready, spawnToReadyMs: Date.now() - spawnedAt },
    stats: () => ask("stats"),
    gc: () => ask("gc"),
    /** RSS (MiB) of the agent's plugin processes, by command line tail. */
    pluginRss: () => childProcesses(child.pid).map((p) => ({ pid: p.pid, name: p.name, rssMiB: rssMiB(p.pid) })),
    async stop() {
      child.send({ type: "stop" });
      await exited(child, 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the agent holds `entries` entries and `svids` SVIDs (polling its stats). */
export async function waitForCache(agent, { entries, svids, timeoutMs = 60_000 }) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await agent.stats();
    if (s.entries >= entries && s.svids >= svids) return s;
    if (Date.now() > end) throw new Error(`agent cache: ${s.entries}/${entries} entries, ${s.svids}/${svids} SVIDs after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function quantile(xs, q) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat. */
export function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; clock ticks of 10 ms
  return (Number(f[11]) + Number(f[12])) * 10;
}

export function childProcesses(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let kids = "";
    try {
      kids = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8");
    } catch {
      continue;
    }
    for (const k of kids.trim().split(/\s+/).filter(Boolean)) {
      const cmd = readFileSync(`/proc/${k}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid: Number(k), name: cmd.slice(1).join(" ").split("/").slice(-3).join("/") });
    }
  }
  return out;
}

/** Prints rows of [figure, measured, floor/target, ratio, verdict] and writes bench/results/<name>.json. */
export function report(name, rows, result) {
  const fmt = (v) => (typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : String(v ?? ""));
  console.log(["figure".padEnd(52), "measured".padStart(10), "floor/target".padStart(13), "ratio".padStart(7), "  verdict"].join(""));
  for (const [figure, measured, floor, ratio, verdict] of rows) {
    console.log([figure.padEnd(52), fmt(measured).padStart(10), fmt(floor).padStart(13), fmt(ratio).padStart(7), `  ${verdict ?? ""}`].join(""));
  }
  const out = join(root, "bench", "results");
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ bench: name, date: new Date().toISOString(), node: process.version, loadavg1AtEnd: loadavg()[0], ...result }, null, 2)}\n`);
  console.log(`wrote ${join("bench", "results", `${name}.json`)}`);
}

function idOf(s) {
  const u = new URL(s);
  return { trustDomain: u.host, path: u.pathname === "/" ? "" : u.pathname };
}

function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
  });
}

function exited(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * The V8 flags a Signet program runs with: those on the #! line of its CLI
 * (e.g. `#!/usr/bin/env -S node --max-semi-space-size=8`), so the bench's
 * stand-ins for signet-server and signet-agent run as the real ones do.
 */
export function binV8Flags(cliSource) {
  const shebang = readFileSync(join(root, cliSource), "utf8").split("\n", 1)[0] ?? "";
  return shebang.split(/\s+/).filter((a) => a.startsWith("--"));
}
