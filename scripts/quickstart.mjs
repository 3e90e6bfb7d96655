#!/usr/bin/env node
// Signet quickstart (README command 1, after install and build):
//   1. starts signet-server on SQLite, 2. makes a join token, 3. starts
//   signet-agent with it, 4. registers two entries for the current user,
//   5. fetches an X509-SVID and a JWT-SVID through the agent CLI, 6. runs two
//   small Node workloads that talk mutual TLS, each authorizing the other by
//   SPIFFE ID. Server and agent keep running afterwards; `npm run
//   quickstart -- stop` stops them. `--stop-after` stops everything at the end.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const serverCli = join(root, "host/server/dist/cli/main.js");
const agentCli = join(root, "host/agent/dist/cli/main.js");
const stateFile = process.env.SIGNET_QUICKSTART_STATE ?? join(root, ".quickstart.json");
const started = Date.now();
const td = "example.org";

let stopping = false;
const say = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(4)}s] ${msg}`);

if (process.argv[2] === "stop") {
  await stop();
  process.exit(0);
}
if (!existsSync(serverCli) || !existsSync(agentCli)) {
  console.error("quickstart: run `npm install && npm run build` first");
  process.exit(1);
}
if (existsSync(stateFile)) await stop(true);
const stopAfter = process.argv.includes("--stop-after");

const dir = mkdtempSync(join(tmpdir(), "signet-quickstart-"));
const state = { dir, pids: [] };
const save = () => writeFileSync(stateFile, JSON.stringify(state));
save();

try {
  await main();
  if (stopAfter) {
    await stop(true);
    say("Stopped the server and the agent (--stop-after).");
  }
} catch (err) {
  console.error(`quickstart failed: ${err.message}`);
  for (const name of ["server.log", "agent.log"]) {
    const p = join(dir, name);
    if (existsSync(p)) console.error(`--- last lines of ${p}:\n${readFileSync(p, "utf8").split("\n").slice(-15).join("\n")}`);
  }
  await stop(true);
  process.exit(1);
}

async function main() {
  const serverSocket = join(dir, "server", "api.sock");
  const agentSocket = join(dir, "agent", "public", "api.sock");
  const port = await freePort();
  mkdirSync(join(dir, "server"), { recursive: true });
  writeFileSync(
    join(dir, "server.conf"),
    `server {
    bind_address = "127.0.0.1"
    bind_port = "${port}"
    socket_path = "${serverSocket}"
    trust_domain = "${td}"
    data_dir = "${join(dir, "server")}"
    log_level = "INFO"
}
plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "${join(dir, "server", "datastore.sqlite3")}"
        }
    }
    KeyManager "disk" { plugin_data { keys_path = "${join(dir, "server", "keys.json")}" } }
    NodeAttestor "join_token" {}
}
`,
  );
  say(`Starting signet-server (trust domain ${td}, SQLite in ${join(dir, "server")}, TLS API on 127.0.0.1:${port})`);
  daemon("server", serverCli, ["run", "-config", join(dir, "server.conf")]);
  await waitFor(() => cli(serverCli, ["healthcheck", "-socketPath", serverSocket]), "the server to be healthy");

  const token = /Token: (\S+)/.exec((await cli(serverCli, ["token", "generate", "-socketPath", serverSocket, "-ttl", "600"])).stdout)?.[1];
  if (!token) throw new Error("token generate printed no token");
  const agentId = `spiffe://${td}/spire/agent/join_token/${token}`;
  say(`Generated a join token; the agent will be ${agentId}`);

  const uid = process.getuid();
  for (const [name, hint] of [["server", "server"], ["client", "client"]]) {
    await cli(serverCli, ["entry", "create", "-socketPath", serverSocket, "-parentID", agentId, "-spiffeID", `spiffe://${td}/quickstart/${name}`, "-selector", `unix:uid:${uid}`, "-hint", hint, "-x509SVIDTTL", "300"]);
  }
  say(`Registered spiffe://${td}/quickstart/server and spiffe://${td}/quickstart/client for processes of uid ${uid} (selector unix:uid:${uid})`);

  writeFileSync(join(dir, "bundle.pem"), (await cli(serverCli, ["bundle", "show", "-socketPath", serverSocket])).stdout);
  writeFileSync(
    join(dir, "agent.conf"),
    `agent {
    trust_domain = "${td}"
    server_address = "127.0.0.1"
    server_port = ${port}
    socket_path = "${agentSocket}"
    data_dir = "${join(dir, "agent")}"
    trust_bundle_path = "${join(dir, "bundle.pem")}"
    log_level = "INFO"
}
plugins {
    KeyManager "memory" {}
    NodeAttestor "join_token" {}
    WorkloadAttestor "unix" {}
}
`,
  );
  say("Starting signet-agent (join token attestation, Workload API on its socket)");
  daemon("agent", agentCli, ["run", "-config", join(dir, "agent.conf"), "-joinToken", token]);
  await waitFor(() => cli(agentCli, ["healthcheck", "-socketPath", agentSocket]), "the agent to be healthy");
  say(`Agent attested; Workload API at unix://${agentSocket}`);

  mkdirSync(join(dir, "svids"));
  const x509 = await cli(agentCli, ["api", "fetch", "x509", "-socketPath", agentSocket, "-write", join(dir, "svids")]);
  console.log(indent(x509.stdout));
  say(`Fetched X509-SVIDs with \`signet-agent api fetch x509\` (written to ${join(dir, "svids")})`);
  const jwt = await cli(agentCli, ["api", "fetch", "jwt", "-audience", "quickstart", "-socketPath", agentSocket]);
  console.log(indent(jwt.stdout.split("\n").map((l) => (l.length > 120 ? `${l.slice(0, 117)}...` : l)).join("\n")));
  say("Fetched a JWT-SVID for audience \"quickstart\" with `signet-agent api fetch jwt`");

  const env = { ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${agentSocket}`, QUICKSTART_PORT: String(await freePort()) };
  say("Running two workloads: examples/quickstart/server.mjs and client.mjs (mTLS, each authorizing the other's SPIFFE ID)");
  const workload = spawn(process.execPath, [join(root, "examples/quickstart/server.mjs")], { env, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    workload.stdout.on("data", (d) => {
      process.stdout.write(indent(d.toString()));
      if (d.toString().includes("listening")) resolve();
    });
    workload.once("exit", (code) => reject(new Error(`workload server exited (${code})`)));
  });
  const client = await run(process.execPath, [join(root, "examples/quickstart/client.mjs")], { env }).catch((e) => e);
  process.stdout.write(indent(client.stdout ?? ""));
  workload.kill("SIGTERM");
  if (!/server replied: hello spiffe:\/\/example\.org\/quickstart\/client/.test(client.stdout ?? "")) {
    throw new Error(`the mTLS exchange failed: ${client.stderr ?? client.message}`);
  }
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (!stopAfter) {
    console.log(`
The server and the agent keep running (logs in ${dir}/server.log and agent.log). Try:
  node host/agent/dist/cli/main.js api fetch x509 -socketPath ${agentSocket}
  node host/server/dist/cli/main.js entry show -socketPath ${serverSocket}
Stop them with:
  npm run quickstart -- stop`);
  }
}

function daemon(name, script, args) {
  const log = openSync(join(dir, `${name}.log`), "a");
  const child = spawn(process.execPath, [script, ...args], { detached: true, stdio: ["ignore", log, log] });
  child.unref();
  state.pids.push(child.pid);
  save();
  child.once("exit", (code) => {
    if (!stopping) say(`${name} exited with code ${code}; see ${join(dir, `${name}.log`)}`);
  });
}

async function stop(quiet = false) {
  stopping = true;
  if (!existsSync(stateFile)) {
    if (!quiet) console.log("quickstart: nothing to stop");
    return;
  }
  const s = JSON.parse(readFileSync(stateFile, "utf8"));
  for (const pid of s.pids ?? []) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && (s.pids ?? []).some(alive)) await new Promise((r) => setTimeout(r, 50));
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  if (!quiet) console.log("quickstart: stopped the server and the agent and removed their files");
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cli(script, args) {
  try {
    return await run(process.execPath, [script, ...args]);
  } catch (e) {
    throw new Error(`${script.includes("agent") ? "signet-agent" : "signet-server"} ${args[0]} ${args[1] ?? ""}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

async function waitFor(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`timed out waiting for ${what}: ${last?.message}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function indent(text) {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `    ${l}`)
    .join("\n")
    .concat(text.trim() === "" ? "" : "\n");
}
