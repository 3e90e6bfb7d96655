/**
 * Checks every plugin must pass whatever its type: the launch contract
 * (cookie, handshake line), Init, Configure/Validate, Shutdown, signals and
 * the shape of its logs. Reference: plugin-protocol.md §1 and §7.2.
 */
import { Code, RpcError, serviceNames } from "@signet/proto";
import { HealthService } from "@signet/proto/grpc/health/v1/health";
import { expect, expectRpcError, fail, outcome, describeRpcError, quote } from "./assert.js";
import { defineCheck, defineSuite } from "./define.js";
import { PluginHarness, type PluginSession } from "./harness.js";
import { type BadConfig, type PluginUnderTest, configText, expectedServiceNames, resolvePlugin } from "./plugin.js";
import type { Check, Suite } from "./suite.js";
import { type ManualRun, type WireRecord, recordWireSession, runWithoutCookie } from "./wire.js";

export interface LifecycleOptions {
  /**
   * Proves the process still answers (used after SIGINT). Default: the gRPC
   * health check go-plugin serves; any answer, even Unimplemented, counts.
   */
  readonly probe?: (session: PluginSession) => Promise<void>;
  /** How long after SIGINT the process must still be running; default 200 ms. */
  readonly sigintWaitMs?: number;
}

/** hclog's `@timestamp`: Go layout 2006-01-02T15:04:05.000000Z07:00. */
const hclogTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const hclogLevels = new Set(["trace", "debug", "info", "warn", "error"]);
/** What a stock go-plugin plugin prints on Linux: field 6 (AutoMTLS certificate) empty, no field 7. */
const handshakeShape = /^1\|1\|(unix|tcp)\|([^|\n]+)\|grpc\|\n$/;

export function lifecycleSuite(pluginUnderTest: PluginUnderTest, options: LifecycleOptions = {}): Suite {
  const plugin = resolvePlugin(pluginUnderTest);
  const harness = new PluginHarness(plugin);
  const probe = options.probe ?? healthProbe;

  let wire: Promise<WireRecord> | undefined;
  const wireRecord = () => (wire ??= recordWireSession(plugin));

  let scratch: Promise<PluginSession> | undefined;
  /** Launched and initialized, not configured: Configure and Validate are the checks. */
  const scratchSession = () => (scratch ??= harness.launch({ configure: false }));

  let sigint: Promise<PluginSession> | undefined;
  /** A process of its own, since a plugin that dies of SIGINT would take the others' checks with it. */
  const sigintSession = () => (sigint ??= harness.launch());

  let manual: Promise<ManualRun> | undefined;
  const manualRun = () => (manual ??= runWithoutCookie(plugin));

  const check = (name: string, run: () => Promise<void>, timeoutMs?: number) => defineCheck(harness, name, run, timeoutMs);
  const checks: Check[] = [
    check("handshake: the first stdout line is 1|1|unix|<socket>|grpc|", async () => {
      const w = await wireRecord();
      if (w.firstLine === undefined) fail(`no handshake line: ${w.error ?? "stdout stayed empty"}`);
      const m = handshakeShape.exec(w.firstLine);
      expect(
        m,
        `first stdout line ${quote(w.firstLine)} is not a go-plugin handshake line "1|1|unix|<socket path>|grpc|\\n" ` +
          "(core 1, app protocol 1, gRPC, empty certificate field, nothing printed before it)",
      );
      if (m[1] === "unix" && process.platform !== "win32") {
        expect(m[2]!.startsWith("/"), `socket path ${quote(m[2]!)} is not absolute`);
        expect(w.socketExisted, `nothing existed at socket path ${quote(m[2]!)} when the handshake line came (listen before printing it)`);
      }
      expect(w.error === undefined || !/handshake/i.test(w.error), `the host could not use the handshake line: ${w.error}`);
    }),
    check(`handshake: printed within the host's timeout (${plugin.handshakeTimeoutMs} ms)`, async () => {
      const w = await wireRecord();
      expect(w.handshakeMs !== undefined, `no handshake line: ${w.error ?? "stdout stayed empty"}`);
      expect(
        w.handshakeMs < plugin.handshakeTimeoutMs,
        `the handshake line came after ${Math.round(w.handshakeMs)} ms; the host gives up after ${plugin.handshakeTimeoutMs} ms`,
      );
    }),
    check("cookie: run by hand, it exits 1 with a one-line message on stderr and nothing on stdout", async () => {
      const run = await manualRun();
      expect(!run.timedOut, "started without the cookie, the program kept running (it must exit 1 at once)");
      expect(run.code === 1, `started without the cookie, the program exited with ${run.signal ?? `code ${run.code}`}; expected code 1`);
      expect(run.stdout === "", `started without the cookie, the program wrote to stdout: ${quote(run.stdout.slice(0, 200))}`);
      const lines = run.stderr.trimEnd().split("\n");
      expect(run.stderr.trim() !== "", "started without the cookie, the program exited without saying why on stderr");
      expect(lines.length === 1, `started without the cookie, the program wrote ${lines.length} lines on stderr; expected one: ${quote(run.stderr.slice(0, 300))}`);
    }),
    ...expectedServiceNames(plugin).map((name) =>
      check(`init: answers ${name}`, async () => {
        const s = await scratchSession();
        expect(s.services.has(name), `Init answered [${[...s.services].join(", ")}], without ${name}`);
      }),
    ),
    ...(plugin.configurable ? configChecks() : []),
    check("shutdown: after Deinit and Shutdown the process exits with code 0 within 2 s", async () => {
      const w = await wireRecord();
      expect(w.error === undefined, `the session did not get as far as Shutdown: ${w.error}`);
      expect(w.exitAfterShutdownMs !== undefined, "the process was still running 2 s after Shutdown (SPIRE then kills it)");
      expect(w.exit?.code === 0, `after Shutdown the process exited with ${w.exit?.signal ?? `code ${w.exit?.code}`}; expected code 0`);
    }),
    check("signals: SIGINT is ignored (the host decides when plugins stop)", async () => {
      const s = await sigintSession();
      s.signal("SIGINT");
      await new Promise((r) => setTimeout(r, options.sigintWaitMs ?? 200));
      expect(s.exited === undefined, `after SIGINT: ${s.describeExit()}`);
      await probe(s);
      await s.kill();
    }),
    check("logging: every stderr line is hclog JSON with @level, @message and a six-digit-fraction @timestamp", async () => {
      const w = await wireRecord();
      const bad = w.stderrLines.map((line) => [line, hclogProblem(line)] as const).filter(([, problem]) => problem !== undefined);
      if (bad.length) {
        fail(
          `${bad.length} of ${w.stderrLines.length} stderr lines are not what go-plugin hosts parse: ` +
            bad
              .slice(0, 3)
              .map(([line, problem]) => `${problem}: ${quote(line.slice(0, 160))}`)
              .join("; "),
        );
      }
    }),
  ];

  function configChecks(): Check[] {
    return [
      check(`init: answers ${serviceNames.config}`, async () => {
        const s = await scratchSession();
        expect(s.services.has(serviceNames.config), `Init answered [${[...s.services].join(", ")}], without the Config service`);
      }),
      check("configure: accepts the good configuration", async () => {
        const s = await scratchSession();
        const r = await outcome(s.configure(await configText(plugin)));
        if (!r.ok) fail(`Configure with the good configuration failed with ${describeRpcError(r.error)}`);
      }),
      ...plugin.badConfigs.map((bad) =>
        check(`configure: refuses bad configuration ${quote(bad.name)} with InvalidArgument`, async () => {
          const s = await scratchSession();
          const e = await expectRpcError(s.configure(bad.text), Code.INVALID_ARGUMENT, `Configure(${quote(bad.name)})`);
          expectMessage(bad, e.message, "Configure");
        }),
      ),
      check("validate: the good configuration is valid", async () => {
        const s = await scratchSession();
        const r = await outcome(s.validate(await configText(plugin)));
        if (!r.ok) fail(`Validate with the good configuration failed with ${describeRpcError(r.error)}${unimplementedHint(r.error)}`);
        expect(r.value.valid, `Validate called the good configuration invalid: ${r.value.notes.join("; ")}`);
      }),
      ...plugin.badConfigs.map((bad) =>
        check(`validate: bad configuration ${quote(bad.name)} is invalid, with a note`, async () => {
          const s = await scratchSession();
          const r = await outcome(s.validate(bad.text));
          if (!r.ok) {
            // Refusing with InvalidArgument is an answer too; anything else is not.
            if (r.error.code !== Code.INVALID_ARGUMENT) {
              fail(`Validate(${quote(bad.name)}) failed with ${describeRpcError(r.error)}${unimplementedHint(r.error)}`);
            }
            expectMessage(bad, r.error.message, "Validate");
            return;
          }
          expect(!r.value.valid, `Validate called bad configuration ${quote(bad.name)} valid, while Configure refuses it`);
          expect(r.value.notes.some((n) => n.trim() !== ""), `Validate called ${quote(bad.name)} invalid without a note saying why`);
          expectMessage(bad, r.value.notes.join("\n"), "Validate");
        }),
      ),
    ];
  }

  return defineSuite(`${plugin.type} lifecycle`, harness, checks, {
    setup: async () => {
      // Start the plugin processes the checks share at once; their failures are reported by the checks.
      await Promise.allSettled([wireRecord(), scratchSession(), sigintSession()]);
    },
    teardown: async () => {
      wire = undefined;
      scratch = undefined;
      sigint = undefined;
      manual = undefined;
    },
  });
}

/** go-plugin's own liveness call; any answer from the server counts. */
async function healthProbe(session: PluginSession): Promise<void> {
  const r = await outcome(session.client(HealthService).check({ service: "plugin" }, { deadline: 5_000 }));
  if (!r.ok && r.error.code !== Code.UNIMPLEMENTED && r.error.code !== Code.NOT_FOUND) {
    fail(`the plugin did not answer a health check: ${describeRpcError(r.error)}`);
  }
}

/** Why a stderr line would not parse as an hclog entry in a Go host, or undefined if it would. */
export function hclogProblem(line: string): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return "not JSON";
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return "not a JSON object";
  const e = entry as Record<string, unknown>;
  if (typeof e["@message"] !== "string") return "no @message string";
  if (typeof e["@level"] !== "string" || !hclogLevels.has(e["@level"])) return "@level is not one of trace, debug, info, warn, error";
  if (typeof e["@timestamp"] !== "string") return "no @timestamp";
  if (!hclogTimestamp.test(e["@timestamp"])) return "@timestamp is not 2006-01-02T15:04:05.000000Z07:00 (six-digit fraction)";
  return undefined;
}

function expectMessage(bad: BadConfig, message: string, call: string): void {
  const want = bad.message;
  if (want === undefined) return;
  const ok = typeof want === "string" ? message.includes(want) : want.test(message);
  expect(ok, `${call}(${quote(bad.name)}) said ${quote(message)}; expected it to ${typeof want === "string" ? `contain ${quote(want)}` : `match ${want}`}`);
}

function unimplementedHint(e: RpcError): string {
  return e.code === Code.UNIMPLEMENTED ? " (Validate exists since SPIRE plugin SDK 1.11; `spire-server validate` and `signet-server validate` call it)" : "";
}
