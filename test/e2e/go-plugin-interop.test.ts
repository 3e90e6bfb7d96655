/**
 * Interop with the Go side of the SPIRE plugin world, in both directions:
 *
 *  A. Stock Go plugins (spire-plugin-sdk + go-plugin, built from
 *     test/e2e/go/stock-plugin) run under Signet's catalog.
 *  B. A Signet TypeScript plugin runs under Go hosts built from
 *     test/e2e/go/spire-host: SPIRE's own catalog package
 *     (github.com/spiffe/spire/pkg/common/catalog) and a go-plugin host
 *     written from the protocol description.
 *
 * Needs `go` on PATH and the Go module proxy for the first build. Without go
 * the tests are left out with a reason, except in CI (CI=true), where that
 * is a failure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import { Code, RpcError, implement } from "@signet/proto";
import { MetricsService } from "@signet/proto/spire/hostservice/common/metrics/v1/metrics";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { HashAlgorithm, KeyManagerService, KeyType } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Catalog, CatalogError, type CatalogOptions, type PluginRequest } from "../../host/common/src/catalog/index.js";
import { createLogger } from "../../host/common/src/log/logger.js";
import { buildPlugin } from "../fakes/build-plugin.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, goBuildTimings, goVersion, haveGo, requireGoInCI } from "./go-toolchain.js";

const buildDir = goBuildDir;
const buildTimeoutMs = goBuildTimeoutMs;
const timings = goBuildTimings;

// ---------------------------------------------------------------- helpers

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Gone = no such process, or a zombie nobody reaped yet (PID 1 in a container may never reap). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await cond()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not reached within ${ms} ms`);
}

function selectorValue(values: readonly string[], prefix: string): string {
  const v = values.find((s) => s.startsWith(`${prefix}:`));
  if (v === undefined) throw new Error(`no ${prefix}: selector in ${JSON.stringify(values)}`);
  return v.slice(prefix.length + 1);
}

// ---------------------------------------------------------------- CI guard

describe("Go toolchain", () => {
  it("is on PATH when CI=true (otherwise the Go interop tests are left out)", () => {
    requireGoInCI("1.26.6 or newer (SPIRE v1.15.3 requires it)");
  });
});

// ------------------------------------------------- A: Go plugins, our catalog

describe.runIf(haveGo)("A: stock Go plugins (spire-plugin-sdk) under Signet's catalog", () => {
  const hostLines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", write: (l) => hostLines.push(JSON.parse(l) as Record<string, unknown>) });
  const counters: { key: string[]; labels: Record<string, string> }[] = [];
  const metricsHostService = implement(MetricsService, {
    async incrCounter(req) {
      counters.push({ key: req.key, labels: Object.fromEntries(req.labels.map((l) => [l.name, l.value])) });
      return {};
    },
  });
  const open: Catalog[] = [];
  let waBin = "";
  let kmBin = "";

  beforeAll(async () => {
    await goBuild("stock-plugin", ["./workloadattestor", "./keymanager"]);
    waBin = join(buildDir, "workloadattestor");
    kmBin = join(buildDir, "keymanager");
  }, buildTimeoutMs + 10_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  function waRequest(extra: Partial<PluginRequest> = {}): PluginRequest {
    return {
      type: "WorkloadAttestor",
      name: "stock",
      source: { kind: "cmd", path: waBin },
      args: [],
      checksum: sha256(waBin),
      data: { kind: "inline", text: JSON.stringify({ greeting: "hello from signet" }) },
      ...extra,
    };
  }

  async function load(reqs: PluginRequest[], side: "agent" | "server" = "agent", extra: Partial<CatalogOptions> = {}) {
    const c = await Catalog.load(reqs, {
      side,
      trustDomain: "example.org",
      log,
      liveness: false,
      hostServices: () => [metricsHostService],
      backoff: { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 60_000 },
      ...extra,
    });
    open.push(c);
    return c;
  }

  async function loadError(reqs: PluginRequest[]): Promise<string> {
    try {
      await load(reqs);
    } catch (e) {
      expect(e).toBeInstanceOf(CatalogError);
      return (e as Error).message;
    }
    throw new Error("load unexpectedly succeeded");
  }

  it("loads with its real sha256, gets the JSON plugin_data through hcl.Decode, attests, and uses the Metrics host service", async () => {
    const start = Date.now();
    const c = await load([waRequest()]);
    timings["A: load Go plugin (catalog)"] = Date.now() - start;
    const p = c.get("WorkloadAttestor", "stock")!;
    expect(p.state).toBe("ready");
    expect([...p.services].sort()).toEqual([
      "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
      "spire.service.common.config.v1.Config",
    ]);

    const callStart = Date.now();
    const res = await p.client(WorkloadAttestorService).attest({ pid: process.pid });
    timings["A: Attest on Go plugin"] = Date.now() - callStart;
    expect(res.selectorValues).toEqual([
      `pid:${process.pid}`,
      "greeting:hello from signet",
      "trust_domain:example.org",
      `self:${p.pid}`,
      "metrics:true", // the plugin brokered a Metrics client at Init and its call reached us
    ]);
    expect(counters).toContainEqual({ key: ["stock_plugin", "attest"], labels: { pid: String(process.pid) } });

    // The Go plugin's hclog JSON lines arrive as structured host log lines
    // (stderr is a separate pipe from the gRPC answer, so a line may lag it).
    await until(() => hostLines.some((l) => l.msg === "Attested workload" && l.plugin_name === "stock"), 2_000, "plugin log line relayed");
    const configured = hostLines.find((l) => l.msg === "Configured" && l.plugin_name === "stock");
    expect(configured).toMatchObject({ level: "info", greeting: "hello from signet", trust_domain: "example.org", plugin_type: "WorkloadAttestor" });
    const attested = hostLines.find((l) => l.msg === "Attested workload" && l.plugin_name === "stock");
    expect(attested).toMatchObject({ level: "info", pid: process.pid });
    expect(hostLines.filter((l) => l.plugin_name === "stock" && String(l.msg).startsWith("{"))).toEqual([]);
  });

  it("also accepts HCL v1 text, the form SPIRE prints a plugin_data block in", async () => {
    const c = await load([waRequest({ data: { kind: "inline", text: 'greeting = "hi from hcl"' } })]);
    const res = await c.get("WorkloadAttestor", "stock")!.client(WorkloadAttestorService).attest({ pid: 7 });
    expect(res.selectorValues.slice(0, 2)).toEqual(["pid:7", "greeting:hi from hcl"]);
  });

  it("refuses a wrong checksum before the process starts", async () => {
    const right = sha256(waBin);
    const wrong = `${right.slice(0, -1)}${right.endsWith("0") ? "1" : "0"}`;
    const mark = hostLines.length;
    const msg = await loadError([waRequest({ checksum: wrong })]);
    expect(msg).toContain('WorkloadAttestor "stock"');
    expect(msg).toMatch(/checksums did not match/);
    // A started Go plugin logs "plugin address" before its handshake; none did.
    expect(hostLines.slice(mark).filter((l) => l.msg === "plugin address")).toEqual([]);
    // ... whereas a load that starts it does (so the check above can fail).
    const c = await load([waRequest()]);
    await until(() => hostLines.slice(mark).some((l) => l.msg === "plugin address"), 2_000, "Go plugin's start-up line relayed");
    await c.close();
  });

  it("fails the load with the plugin's own message when Configure rejects the configuration", async () => {
    const semantic = await loadError([waRequest({ data: { kind: "inline", text: JSON.stringify({ greeting: "" }) } })]);
    expect(semantic).toMatch(/^failed to load plugin WorkloadAttestor "stock": workloadattestor\(stock\): greeting is required$/);

    const syntax = await loadError([waRequest({ data: { kind: "inline", text: 'greeting = "unterminated' } })]);
    expect(syntax).toMatch(/workloadattestor\(stock\): failed to decode configuration: At 1:\d+: literal not terminated$/);
  });

  it("keeps the gRPC status and adds the SPIRE-style prefix to a plugin error", async () => {
    const c = await load([waRequest()]);
    const err = await c.get("WorkloadAttestor", "stock")!.client(WorkloadAttestorService).attest({ pid: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as RpcError).message).toBe("workloadattestor(stock): pid must be positive");
  });

  it("restarts the Go plugin after SIGKILL, with the same configuration and host services", async () => {
    const c = await load([waRequest()]);
    const p = c.get("WorkloadAttestor", "stock")!;
    const wa = p.client(WorkloadAttestorService);
    const first = p.pid!;
    expect(selectorValue((await wa.attest({ pid: 1 })).selectorValues, "self")).toBe(String(first));

    const killedAt = Date.now();
    process.kill(first, "SIGKILL");
    await until(() => gone(first), 2_000, "killed Go plugin exits");
    // While it is down, calls fail at once with Unavailable (not a hang).
    await until(() => p.state !== "ready", 2_000, "catalog notices the exit");
    const down = await wa.attest({ pid: 1 }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(RpcError);
    expect((down as RpcError).code).toBe(Code.UNAVAILABLE);

    await until(() => p.state === "ready" && p.pid !== undefined && p.pid !== first, 10_000, "Go plugin restarted");
    timings["A: SIGKILL to restarted Go plugin ready"] = Date.now() - killedAt;
    const after = await wa.attest({ pid: 2 });
    expect(after.selectorValues).toEqual(["pid:2", "greeting:hello from signet", "trust_domain:example.org", `self:${p.pid}`, "metrics:true"]);
  });

  it("closes the catalog with the Go process gone within a few seconds, via Shutdown", async () => {
    const c = await load([waRequest()]);
    const pid = c.get("WorkloadAttestor", "stock")!.pid!;
    const mark = hostLines.length;
    const start = Date.now();
    await c.close();
    const took = Date.now() - start;
    timings["A: catalog.close() with Go plugin"] = took;
    expect(took).toBeLessThan(3_000);
    expect(gone(pid)).toBe(true);
    // It went on Shutdown: no escalation to signals was needed.
    expect(hostLines.slice(mark).filter((l) => /SIGTERM|SIGKILL/.test(String(l.msg)))).toEqual([]);
  });

  it("runs a stock Go server KeyManager: EC P-256 keys whose signatures node:crypto verifies", async () => {
    const c = await load(
      [
        {
          type: "KeyManager",
          name: "stock_km",
          source: { kind: "cmd", path: kmBin },
          args: [],
          checksum: sha256(kmBin),
          data: { kind: "inline", text: 'key_prefix = "signet-"' },
        },
      ],
      "server",
    );
    const km = c.get("KeyManager", "stock_km")!.client(KeyManagerService);
    const generated = (await km.generateKey({ keyId: "signet-x509-CA-A", keyType: KeyType.EC_P256 })).publicKey!;
    expect(generated.id).toBe("signet-x509-CA-A");
    expect(generated.type).toBe(KeyType.EC_P256);
    const publicKey = createPublicKey({ key: generated.pkixData, format: "der", type: "spki" });
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(generated.fingerprint).toBe(createHash("sha256").update(generated.pkixData).digest("hex"));

    const message = Buffer.from("to be signed by a Go plugin");
    const digest = createHash("sha256").update(message).digest();
    const signed = await km.signData({ keyId: "signet-x509-CA-A", data: digest, signerOpts: { $case: "hashAlgorithm", value: HashAlgorithm.SHA256 } });
    expect(signed.keyFingerprint).toBe(generated.fingerprint);
    expect(verifySignature("sha256", message, publicKey, signed.signature)).toBe(true);
    expect(verifySignature("sha256", Buffer.from("something else"), publicKey, signed.signature)).toBe(false);

    expect((await km.getPublicKey({ keyId: "signet-x509-CA-A" })).publicKey).toEqual(generated);
    expect((await km.getPublicKeys({})).publicKeys.map((k) => k.id)).toEqual(["signet-x509-CA-A"]);

    const notFound = await km.getPublicKey({ keyId: "signet-missing" }).catch((e: unknown) => e);
    expect((notFound as RpcError).code).toBe(Code.NOT_FOUND);
    const badId = await km.generateKey({ keyId: "other", keyType: KeyType.EC_P256 }).catch((e: unknown) => e);
    expect((badId as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    expect((badId as RpcError).message).toBe('keymanager(stock_km): key id "other" must start with "signet-"');
  });
});

// --------------------------------------------- B: our plugin, Go go-plugin hosts

interface HostRun {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  readonly logs: Record<string, unknown>[];
  readonly rawStderr: string[];
  /** Resolves with the first event of that name (or rejects when the host exits first). */
  event(name: string, ms?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runHost(hostBin: string, args: string[]): HostRun {
  const child = spawn(hostBin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const events: Record<string, unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  const rawStderr: string[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  createInterface({ input: child.stdout! }).on("line", (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    wake();
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      rawStderr.push(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      resolve({ code, signal });
      wake();
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const event = (name: string, ms = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${name}" event from the host within ${ms} ms; events: ${JSON.stringify(events)}`)), ms);
      const check = () => {
        const e = events.find((x) => x.event === name);
        if (e) {
          clearTimeout(timer);
          resolve(e);
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`host exited without a "${name}" event; events: ${JSON.stringify(events)}; logs: ${JSON.stringify(logs.slice(-10))}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, events, logs, rawStderr, event, exited };
}

function selectorsOf(e: Record<string, unknown>, type: string): string[] {
  return (e.selectors as { type: string; value: string }[]).filter((s) => s.type === type).map((s) => s.value);
}

describe.runIf(haveGo)("B: Signet's TypeScript plugin under Go go-plugin hosts", () => {
  let hostBin = "";
  let pluginBin = "";
  let scratch = "";
  const running: HostRun[] = [];

  beforeAll(async () => {
    const [, bin] = await Promise.all([goBuild("spire-host", ["."]), buildPlugin(join(__dirname, "../fakes/plugins/interop-workloadattestor.ts"), "interop-workloadattestor")]);
    hostBin = join(buildDir, "spirehost"); // named after the module path's last element
    pluginBin = bin;
    scratch = mkdtempSync(join(tmpdir(), "signet-spire-host-"));
  }, buildTimeoutMs + 30_000);

  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function host(args: string[]): HostRun {
    const r = runHost(hostBin, args);
    running.push(r);
    return r;
  }

  function agentConfig(body: string): string {
    const file = join(scratch, `agent-${Date.now()}-${Math.random().toString(36).slice(2)}.conf`);
    writeFileSync(file, `plugins {\n${body}\n}\n`);
    return file;
  }

  /** Log lines go-plugin relayed from our plugin's stderr (SPIRE: subsystem_name "<name>.<executable>"). */
  function pluginLogs(r: HostRun, name: string) {
    return r.logs.filter((l) => l.subsystem_name === `${name}.${basename(pluginBin)}`);
  }

  it("SPIRE's catalog loads it (plugin_data block and plugin_data_file), Inits with the agent's host services, and attests", async () => {
    const jsonFile = join(scratch, "interop.json");
    writeFileSync(jsonFile, '{"colour": "blue"}\n');
    const config = agentConfig(`
  WorkloadAttestor "interop" {
    plugin_cmd = "${pluginBin}"
    plugin_checksum = "${sha256(pluginBin)}"
    plugin_data { colour = "green" }
  }
  WorkloadAttestor "interop_json" {
    plugin_cmd = "${pluginBin}"
    plugin_data_file = "${jsonFile}"
  }`);
    const start = Date.now();
    const r = host(["-mode", "spire", "-config", config, "-pid", String(process.pid), "-attests", "2"]);
    const loaded = await r.event("loaded");
    timings["B: SPIRE catalog load of 2 TS plugins"] = Number(loaded.load_ms);
    expect(loaded.plugins).toEqual(["interop", "interop_json"]);
    const attested = await r.event("attested");
    const closed = await r.event("closed");
    const exit = await r.exited;
    timings["B: SPIRE host run, start to exit"] = Date.now() - start;
    timings["B: SPIRE catalog.Close() of 2 TS plugins"] = Number(closed.close_ms);
    expect(exit.code).toBe(0);
    expect(closed.error).toBeUndefined();

    const sent = loaded.hcl_configuration as Record<string, string>;
    // SPIRE re-prints a plugin_data block as HCL v1 text; a plugin_data_file goes verbatim.
    expect(sent.interop).toBe('colour = "green"');
    expect(sent.interop_json).toBe('{"colour": "blue"}\n');

    const [a, b] = [selectorsOf(attested, "interop"), selectorsOf(attested, "interop_json")];
    expect(a[0]).toBe(`pid:${process.pid}`);
    expect(selectorValue(a, "config")).toBe("green");
    expect(Buffer.from(selectorValue(a, "raw-config"), "base64").toString()).toBe(sent.interop);
    expect(Buffer.from(selectorValue(b, "raw-config"), "base64").toString()).toBe(sent.interop_json);
    expect(selectorValue(b, "config")).toBe("blue");
    for (const s of [a, b]) {
      expect(selectorValue(s, "trust-domain")).toBe("example.org");
      expect(selectorValue(s, "host-services")).toBe("spire.hostservice.common.metrics.v1.Metrics");
      expect(selectorValue(s, "metrics")).toBe("ok");
    }
    // The plugin's IncrCounter went through go-plugin's broker (id 1) into SPIRE's metricsservice.
    const metrics = r.events.filter((e) => e.event === "metrics").at(-1)!;
    expect(metrics.counters).toEqual(Array(4).fill(`[interop_plugin attest] pid=${process.pid}`));

    // Our stderr JSON lines went through go-plugin's hclog parsing, not its raw fallback.
    const lines = pluginLogs(r, "interop");
    const byMsg = (m: string) => lines.filter((l) => l.msg === m);
    expect(byMsg("Configured")[0]).toMatchObject({ level: "info", colour: "green", config_bytes: 16, nested: { depth: 1, list: [1, 2] } });
    expect(byMsg("Init received")[0]).toMatchObject({ level: "info", host_services: ["spire.hostservice.common.metrics.v1.Metrics"] });
    expect(byMsg("Attest debug line")).toHaveLength(2);
    expect(byMsg("Attest warn line").map((l) => [l.level, l.call])).toEqual([["warning", 1], ["warning", 2]]);
    expect(byMsg("Attest error line (expected in tests)")[0]).toMatchObject({ level: "error", unicode: "héllo ✓" });
    expect(byMsg("Deinit received")).toHaveLength(1);
    expect(byMsg("Attest trace line")).toEqual([]); // SPIRE's hclog adapter drops trace
    for (const l of lines) {
      expect(l.timestamp, `go-plugin adds "timestamp" only to lines it parsed: ${JSON.stringify(l)}`).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(String(l.msg)).not.toMatch(/^\s*\{/);
    }
    expect(r.logs.filter((l) => String(l.msg).includes('"@message"'))).toEqual([]);
    expect(r.rawStderr).toEqual([]);

    // Unload went by Deinit + Shutdown, well inside go-plugin's 2 s grace.
    expect(r.logs.filter((l) => l.msg === "plugin failed to exit gracefully")).toEqual([]);
    expect(r.logs.filter((l) => l.msg === "Plugin unloaded").map((l) => l.plugin_name)).toEqual(["interop_json", "interop"]);
    expect(Number(closed.close_ms)).toBeLessThan(2_000);
    for (const s of [a, b]) expect(gone(Number(selectorValue(s, "self")))).toBe(true);
  });

  it("SPIRE's catalog reports the plugin's own Configure error and refuses a wrong checksum before starting it", async () => {
    const bad = host([
      "-mode",
      "spire",
      "-config",
      agentConfig(`  WorkloadAttestor "interop" {\n    plugin_cmd = "${pluginBin}"\n    plugin_args = ["bad-config"]\n    plugin_data { colour = "red" }\n  }`),
    ]);
    const err = await bad.event("error");
    expect(err.stage).toBe("load");
    expect(err.error).toBe('failed to configure plugin "interop": rpc error: code = InvalidArgument desc = colour: must be one of red, green, blue');
    expect((await bad.exited).code).toBe(1);
    const started = bad.logs.find((l) => l.msg === "plugin started");
    expect(started).toBeDefined();
    expect(gone(Number(started!.pid))).toBe(true);

    // The SDK's decodePluginConfig reads SPIRE's HCL text and names the line and key.
    const invalid = host([
      "-mode",
      "spire",
      "-config",
      agentConfig(`  WorkloadAttestor "interop" {\n    plugin_cmd = "${pluginBin}"\n    plugin_data { colour = "purple" }\n  }`),
    ]);
    expect((await invalid.event("error")).error).toBe(
      'failed to configure plugin "interop": rpc error: code = InvalidArgument desc = plugin configuration:1: colour: expected one of "red", "green", "blue", got "purple"',
    );

    const right = sha256(pluginBin);
    const wrong = `${right.slice(0, -1)}${right.endsWith("0") ? "1" : "0"}`;
    const refused = host([
      "-mode",
      "spire",
      "-config",
      agentConfig(`  WorkloadAttestor "interop" {\n    plugin_cmd = "${pluginBin}"\n    plugin_checksum = "${wrong}"\n  }`),
    ]);
    const refusal = await refused.event("error");
    expect(refusal.error).toBe('failed to load plugin "interop": failed to launch plugin: checksums did not match');
    expect(refused.logs.filter((l) => l.msg === "plugin started")).toEqual([]);
  });

  it("a go-plugin host written from the protocol (broker id 1, raw Init, Configure, Attest, Deinit, Kill) loads it", async () => {
    const r = host([
      "-mode",
      "goplugin",
      "-plugin",
      pluginBin,
      "-name",
      "interop",
      "-checksum",
      sha256(pluginBin),
      "-data",
      JSON.stringify({ colour: "red" }),
      "-pid",
      "4242",
    ]);
    const loaded = await r.event("loaded");
    expect(loaded).toMatchObject({ protocol: "grpc", negotiated: 1 });
    expect(loaded.plugin_services).toEqual(["spire.plugin.agent.workloadattestor.v1.WorkloadAttestor", "spire.service.common.config.v1.Config"]);
    timings["B: hand go-plugin host load"] = Number(loaded.load_ms);
    const attested = await r.event("attested");
    const s = selectorsOf(attested, "interop");
    expect(s.slice(0, 2)).toEqual(["pid:4242", "config:red"]);
    expect(selectorValue(s, "metrics")).toBe("ok");
    const closed = await r.event("closed");
    expect(closed.error).toBeUndefined();
    expect((await r.exited).code).toBe(0);
    expect(gone(Number(selectorValue(s, "self")))).toBe(true);
    // What the plugin printed on stdout after its handshake reached the host over GRPCStdio.
    expect((await r.event("stdio")).stdout).toBe("stdout line from attest 1\n");

    // hclog JSON output: relayed plugin lines carry the plugin's fields and go-plugin's "timestamp".
    const relayed = r.logs.filter((l) => l["@module"] === `host.${basename(pluginBin)}`);
    expect(relayed.find((l) => l["@message"] === "Configured")).toMatchObject({ "@level": "info", colour: "red" });
    expect(relayed.find((l) => l["@message"] === "Attest trace line")).toMatchObject({ "@level": "trace", pid: 4242 });
    for (const l of relayed) expect(l.timestamp).toBeDefined();
    expect(r.logs.filter((l) => String(l["@message"]).trimStart().startsWith("{"))).toEqual([]);
    expect(r.logs.filter((l) => l["@message"] === "plugin failed to exit gracefully")).toEqual([]);
  });

  it("exits by itself within ~2 s when a host without a parent-death signal is SIGKILLed", async () => {
    const r = host(["-mode", "goplugin", "-plugin", pluginBin, "-name", "interop", "-data", '{"colour":"red"}', "-hold"]);
    const s = selectorsOf(await r.event("attested"), "interop");
    await r.event("holding");
    const pid = Number(selectorValue(s, "self"));
    expect(gone(pid)).toBe(false);
    r.child.kill("SIGKILL");
    await r.exited;
    const took = await until(() => gone(pid), 2_500, "orphaned TS plugin exits");
    timings["B: TS plugin exit after host SIGKILL (no pdeathsig)"] = took;
  });

  it("is gone at once when SPIRE's catalog host is SIGKILLed (SPIRE's parent-death signal)", async () => {
    const config = agentConfig(`  WorkloadAttestor "interop" {\n    plugin_cmd = "${pluginBin}"\n    plugin_data { colour = "red" }\n  }`);
    const r = host(["-mode", "spire", "-config", config, "-hold"]);
    const s = selectorsOf(await r.event("attested"), "interop");
    await r.event("holding");
    const pid = Number(selectorValue(s, "self"));
    r.child.kill("SIGKILL");
    await r.exited;
    timings["B: TS plugin exit after SPIRE host SIGKILL"] = await until(() => gone(pid), 2_500, "TS plugin exits with SPIRE");
  });
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (Object.keys(timings).length > 0) {
    console.log(`go-plugin interop timings (${goVersion}):\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${v} ms`).join("\n")}`);
  }
});
