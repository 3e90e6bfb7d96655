import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdtempSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Code, RpcError } from "@signet/proto";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { createLogger } from "../log/logger.js";
import { Catalog, CatalogError, type CatalogOptions, type PluginRequest } from "./index.js";

const lines: string[] = [];
const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
let pluginFile = "";
const open: Catalog[] = [];
const scratch = mkdtempSync(join(tmpdir(), "signet-catalog-test-"));

beforeAll(async () => {
  pluginFile = await buildPlugin(join(__dirname, "../../../../test/fakes/plugins/test-workloadattestor.ts"), "test-workloadattestor");
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  lines.length = 0;
});

function request(mode: string, extra: Partial<PluginRequest> = {}): PluginRequest {
  return {
    type: "WorkloadAttestor",
    name: "test",
    source: { kind: "cmd", path: pluginFile },
    args: [mode],
    data: { kind: "inline", text: JSON.stringify({ colour: "red" }) },
    ...extra,
  };
}

async function load(reqs: PluginRequest[], extra: Partial<CatalogOptions> = {}) {
  const c = await Catalog.load(reqs, {
    side: "agent",
    trustDomain: "example.org",
    log,
    liveness: false,
    backoff: { initialDelayMs: 50, maxDelayMs: 400, resetAfterMs: 60_000 },
    ...extra,
  });
  open.push(c);
  return c;
}

async function loadError(reqs: PluginRequest[], extra: Partial<CatalogOptions> = {}): Promise<string> {
  try {
    await load(reqs, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(CatalogError);
    return (e as Error).message;
  }
  throw new Error("load unexpectedly succeeded");
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached in time");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("loading", () => {
  it("loads, configures and calls a plugin; its JSON logs become host log fields", async () => {
    const c = await load([request("good")]);
    const p = c.get("WorkloadAttestor", "test")!;
    const res = await p.client(WorkloadAttestorService).attest({ pid: 42 });
    expect(res.selectorValues.slice(0, 2)).toEqual(["pid:42", "config:red"]);
    const configured = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "Configured");
    expect(configured).toMatchObject({ level: "info", colour: "red", plugin_type: "WorkloadAttestor", plugin_name: "test" });
  });

  it("sends an empty configuration when there is no plugin_data", async () => {
    const c = await load([request("good", { data: { kind: "none" } })]);
    const res = await c.get("WorkloadAttestor", "test")!.client(WorkloadAttestorService).attest({ pid: 1 });
    expect(res.selectorValues[1]).toBe("config:");
  });

  it("reads plugin_data_file and reconfigures from it on request", async () => {
    const file = join(scratch, "data.json");
    writeFileSync(file, JSON.stringify({ colour: "blue" }));
    const c = await load([request("good", { data: { kind: "file", path: file } })]);
    const wa = c.get("WorkloadAttestor", "test")!.client(WorkloadAttestorService);
    expect((await wa.attest({ pid: 1 })).selectorValues[1]).toBe("config:blue");
    writeFileSync(file, JSON.stringify({ colour: "green" }));
    await c.reconfigure();
    expect((await wa.attest({ pid: 1 })).selectorValues[1]).toBe("config:green");
  });

  it("starts several plugins in parallel", async () => {
    const reqs = ["a", "b", "c"].map((name) => request("good", { name }));
    const c = await load(reqs);
    expect(c.ofType("WorkloadAttestor").map((p) => p.name)).toEqual(["a", "b", "c"]);
    expect(new Set(c.all().map((p) => p.pid)).size).toBe(3);
  });

  it("refuses a checksum mismatch before starting anything", async () => {
    const msg = await loadError([request("good", { checksum: "00".repeat(32) })]);
    expect(msg).toMatch(/WorkloadAttestor "test": checksums did not match/);
  });

  it("accepts the right checksum", async () => {
    const sum = createHash("sha256").update(readFileSync(pluginFile)).digest("hex");
    const c = await load([request("good", { checksum: sum })]);
    expect(c.get("WorkloadAttestor", "test")!.state).toBe("ready");
  });

  it("a plugin_checksum of a bundled plugin's executable pins its code: a tampered bundle does not run", async () => {
    const launcher = await buildPlugin(join(__dirname, "../../../../test/fakes/plugins/test-workloadattestor.ts"), "tampered-workloadattestor");
    const sum = createHash("sha256").update(readFileSync(launcher)).digest("hex");
    const bundle = join(dirname(launcher), "plugin.cjs");
    writeFileSync(bundle, `${readFileSync(bundle, "utf8")}\n;globalThis.evil = 1;`);
    const msg = await loadError([request("good", { source: { kind: "cmd", path: launcher }, checksum: sum })]);
    expect(msg).toMatch(/exited before the handshake \(exit code 1\): .*plugin\.cjs: contents do not match the checksum pinned in/);
  });

  it("names a missing or non-executable program", async () => {
    expect(await loadError([request("good", { source: { kind: "cmd", path: "/nonexistent/plugin" } })])).toMatch(
      /does not exist/,
    );
    const file = join(scratch, "not-exec");
    writeFileSync(file, "#!/bin/sh\n");
    chmodSync(file, 0o644);
    expect(await loadError([request("good", { source: { kind: "cmd", path: file } })])).toMatch(/is not executable/);
  });

  it("reports a plugin that exits before the handshake, with its last stderr line", async () => {
    const msg = await loadError([request("early-exit")]);
    expect(msg).toMatch(/exited before the handshake \(exit code 2\): fatal: cannot open \/nonexistent\/key/);
  });

  it("reports a plugin that cannot listen, in one line from its own log", async () => {
    const msg = await loadError([request("good")], { env: { ...process.env, PLUGIN_UNIX_SOCKET_DIR: "/nonexistent/dir" } });
    expect(msg).toMatch(/exited before the handshake \(exit code 1\): .*Plugin failed to start: cannot listen on \/nonexistent\/dir\/plugin\d+/);
    expect(msg).not.toMatch(/\n/);
  });

  it("reports a bad handshake line", async () => {
    expect(await loadError([request("garbage")])).toMatch(/unrecognized handshake line "hello, I am not a plugin"/);
  });

  it("times out a plugin that never prints its handshake", async () => {
    const file = join(scratch, "silent");
    writeFileSync(file, "#!/bin/sh\nsleep 30\n");
    chmodSync(file, 0o755);
    const msg = await loadError([request("good", { source: { kind: "cmd", path: file } })], { handshakeTimeoutMs: 300 });
    expect(msg).toMatch(/timeout after 300 ms waiting for the plugin's handshake line/);
  });

  it("fails the load with the plugin's own Configure error", async () => {
    expect(await loadError([request("bad-config")])).toBe(
      'failed to load plugin WorkloadAttestor "test": workloadattestor(test): colour: must be red or blue',
    );
  });

  it("refuses plugin_data for a plugin without a Config service", async () => {
    expect(await loadError([request("no-config")])).toMatch(/plugin_data was given but the plugin has no configuration interface/);
  });

  it("refuses a plugin that does not serve its type's service", async () => {
    expect(await loadError([request("wrong-type", { data: { kind: "none" } })])).toMatch(
      /no supported plugin interface found in: \[spire.plugin.agent.keymanager.v1.KeyManager/,
    );
  });

  it("refuses an unknown plugin type and a missing built-in", async () => {
    expect(await loadError([request("good", { type: "Frobnicator" })])).toMatch(/unsupported plugin type "Frobnicator" for the agent/);
    expect(await loadError([request("good", { source: { kind: "builtin" }, name: "nope" })])).toMatch(
      /no built-in WorkloadAttestor plugin named "nope" \(package @signet\/plugin-workloadattestor-nope is not installed\)/,
    );
  });

  it("reports every failing plugin at once and stops the ones that started", async () => {
    let goodPid: number | undefined;
    const msg = await loadError([request("good", { name: "ok" }), request("bad-config", { name: "bad1" }), request("garbage", { name: "bad2" })]);
    expect(msg).toMatch(/failed to load 2 plugins:\n {2}WorkloadAttestor "bad1": .*colour.*\n {2}WorkloadAttestor "bad2": .*unrecognized handshake/);
    void goodPid;
    // nothing of ours left running
    const started = lines.map((l) => JSON.parse(l)).filter((e) => e.msg === "Plugin loaded");
    for (const e of started) expect(alive(e.pid)).toBe(false);
  });
});

describe("supervision", () => {
  it("restarts a crashed plugin; calls fail fast with Unavailable meanwhile, then succeed", async () => {
    const c = await load([request("crash-on-call")], { backoff: { initialDelayMs: 400, maxDelayMs: 400, resetAfterMs: 60_000 } });
    const p = c.get("WorkloadAttestor", "test")!;
    const wa = p.client(WorkloadAttestorService);
    const firstPid = p.pid!;
    await expect(wa.attest({ pid: 1 })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await until(() => p.state === "restarting");
    const t0 = Date.now();
    const err = await wa.attest({ pid: 1 }).catch((e: RpcError) => e);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.UNAVAILABLE);
    expect((err as RpcError).message).toMatch(/^workloadattestor\(test\): plugin is restarting \(last: exit code 3\)/);
    await until(() => p.state === "ready");
    expect(p.pid).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    const exited = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "Plugin process exited unexpectedly");
    expect(exited).toMatchObject({ level: "error", how: "exit code 3" });
  });

  it("restarts with the same configuration after a SIGKILL", async () => {
    const c = await load([request("good")]);
    const p = c.get("WorkloadAttestor", "test")!;
    process.kill(p.pid!, "SIGKILL");
    await until(() => p.state === "restarting");
    await until(() => p.state === "ready");
    const res = await p.client(WorkloadAttestorService).attest({ pid: 7 });
    expect(res.selectorValues[1]).toBe("config:red");
  });

  it("a per-call deadline catches a hung call, and liveness probes leave a responsive process alone", async () => {
    const c = await load([request("hang")], { callTimeoutMs: 300, liveness: { intervalMs: 100, timeoutMs: 200, failures: 2 } });
    const p = c.get("WorkloadAttestor", "test")!;
    const pid = p.pid;
    await expect(p.client(WorkloadAttestorService).attest({ pid: 1 })).rejects.toMatchObject({
      code: Code.DEADLINE_EXCEEDED,
      message: expect.stringMatching(/^workloadattestor\(test\): /),
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(p.pid).toBe(pid);
  });

  it("kills and restarts a plugin whose process stops answering", async () => {
    const c = await load([request("good")], { liveness: { intervalMs: 100, timeoutMs: 150, failures: 2 } });
    const p = c.get("WorkloadAttestor", "test")!;
    const pid = p.pid!;
    process.kill(pid, "SIGSTOP");
    await until(() => p.state === "restarting");
    await until(() => p.state === "ready");
    expect(p.pid).not.toBe(pid);
    expect(lines.some((l) => l.includes("Plugin is not responding"))).toBe(true);
  });

  it("keeps the host alive while a plugin keeps failing to restart, backing off", async () => {
    const file = join(scratch, "flaky");
    writeFileSync(file, `#!/bin/sh\nexec ${process.execPath} ${pluginFile} "$@"\n`);
    chmodSync(file, 0o755);
    const c = await load([request("good", { source: { kind: "cmd", path: file } })]);
    const p = c.get("WorkloadAttestor", "test")!;
    writeFileSync(file, "#!/bin/sh\necho broken >&2\nexit 9\n");
    process.kill(p.pid!, "SIGKILL");
    await until(() => lines.filter((l) => l.includes("Plugin restart failed")).length >= 3);
    const delays = lines
      .map((l) => JSON.parse(l))
      .filter((e) => e.msg === "Restarting plugin")
      .map((e) => e.delay_ms as number);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    expect(p.state === "restarting" || p.state === "starting").toBe(true);
  });
});

describe("shutdown", () => {
  it("stops every plugin process on close", async () => {
    const c = await load([request("good", { name: "a" }), request("good", { name: "b" })]);
    const pids = c.all().map((p) => p.pid!);
    await c.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(c.get("WorkloadAttestor", "a")!.client(WorkloadAttestorService).attest({ pid: 1 })).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
    });
  });

  it("escalates to signals for a plugin that ignores Shutdown and SIGTERM", async () => {
    const c = await Catalog.load([request("slow-shutdown", { data: { kind: "none" } })], {
      side: "agent",
      trustDomain: "example.org",
      log,
      liveness: false,
      stopGraceMs: 200,
    });
    const pid = c.all()[0]!.pid!;
    await c.close();
    expect(alive(pid)).toBe(false);
  });
});
