/**
 * The lifecycle suite against real plugin programs: a good one passes every
 * check, and each deliberately broken one fails exactly the check that is
 * about its defect.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { hclogProblem, lifecycleSuite } from "./lifecycle.js";
import type { PluginUnderTest } from "./plugin.js";
import { type SuiteResult, runSuite } from "./suite.js";

const fakes = join(__dirname, "../../../test/fakes/plugins");
let attestor = "";
let broken = "";

beforeAll(async () => {
  [attestor, broken] = await Promise.all([
    buildPlugin(join(fakes, "test-workloadattestor.ts"), "conformance-lifecycle-workloadattestor"),
    buildPlugin(join(fakes, "broken-keymanager.ts"), "conformance-lifecycle-broken-keymanager", "KeyManager"),
  ]);
});

const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const errorOf = (r: SuiteResult, prefix: string) => r.results.find((c) => c.name.startsWith(prefix))?.error?.message ?? "";

function goodAttestor(extra: Partial<PluginUnderTest> = {}): PluginUnderTest {
  return {
    type: "WorkloadAttestor",
    file: attestor,
    args: ["good"],
    config: JSON.stringify({ colour: "red" }),
    badConfigs: [{ name: "not JSON", text: "{colour", message: /JSON/ }],
    ...extra,
  };
}

function brokenKeyManager(mode: string): PluginUnderTest {
  return {
    type: "KeyManager",
    file: broken,
    args: [mode],
    sides: ["server", "agent"],
    badConfigs: [{ name: "a key", text: '{"keys_path": "/tmp/k"}', message: "takes no configuration" }],
  };
}

describe("lifecycleSuite", () => {
  it("passes a well-behaved plugin on every check", async () => {
    const suite = lifecycleSuite(goodAttestor());
    const r = await runSuite(suite);
    expect(failed(r)).toEqual([]);
    expect(r.results.map((c) => c.name)).toEqual([
      "handshake: the first stdout line is 1|1|unix|<socket>|grpc|",
      "handshake: printed within the host's timeout (60000 ms)",
      "cookie: run by hand, it exits 1 with a one-line message on stderr and nothing on stdout",
      "init: answers spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
      "init: answers spire.service.common.config.v1.Config",
      "configure: accepts the good configuration",
      'configure: refuses bad configuration "not JSON" with InvalidArgument',
      "validate: the good configuration is valid",
      'validate: bad configuration "not JSON" is invalid, with a note',
      "shutdown: after Deinit and Shutdown the process exits with code 0 within 2 s",
      "signals: SIGINT is ignored (the host decides when plugins stop)",
      "logging: every stderr line is hclog JSON with @level, @message and a six-digit-fraction @timestamp",
    ]);
  });

  it("fails the checks whose expectations the author states wrongly", async () => {
    const r = await runSuite(
      lifecycleSuite(
        goodAttestor({
          badConfigs: [
            { name: "accepted after all", text: JSON.stringify({ colour: "blue" }) },
            { name: "refused, but not as said", text: "{colour", message: "colour must be red" },
          ],
          serviceNames: ["spire.plugin.agent.workloadattestor.v1.WorkloadAttestor", "spire.plugin.agent.svidstore.v1.SVIDStore"],
        }),
      ),
    );
    expect(failed(r)).toEqual([
      "init: answers spire.plugin.agent.svidstore.v1.SVIDStore",
      'configure: refuses bad configuration "accepted after all" with InvalidArgument',
      'configure: refuses bad configuration "refused, but not as said" with InvalidArgument',
      'validate: bad configuration "accepted after all" is invalid, with a note',
      'validate: bad configuration "refused, but not as said" is invalid, with a note',
    ]);
    expect(errorOf(r, 'configure: refuses bad configuration "accepted after all"')).toMatch(/expected InvalidArgument, but the call succeeded/);
    expect(errorOf(r, 'configure: refuses bad configuration "refused, but not as said"')).toMatch(/expected it to contain "colour must be red"/);
  });

  it.each([
    ["accepts-anything", ['configure: refuses bad configuration "a key" with InvalidArgument', 'validate: bad configuration "a key" is invalid, with a note'], /succeeded|valid/],
    ["js-timestamps", ["logging: every stderr line is hclog JSON with @level, @message and a six-digit-fraction @timestamp"], /six-digit fraction/],
    ["dies-on-sigint", ["signals: SIGINT is ignored (the host decides when plugins stop)"], /killed by SIGINT/],
    ["lingers", ["shutdown: after Deinit and Shutdown the process exits with code 0 within 2 s"], /still running 2 s after Shutdown/],
    ["talks-by-hand", ["cookie: run by hand, it exits 1 with a one-line message on stderr and nothing on stdout"], /wrote to stdout: "hello from the key manager/],
  ])("a plugin that %s fails exactly the check about it", async (mode, expected, message) => {
    const r = await runSuite(lifecycleSuite(brokenKeyManager(mode)));
    expect(failed(r)).toEqual(expected);
    expect(errorOf(r, expected[0]!)).toMatch(message);
  });

  it("fails the handshake checks for a program that prints something else, or too late", async () => {
    const garbage = await runSuite(lifecycleSuite(goodAttestor({ args: ["garbage"] })), { only: (n) => n.startsWith("handshake") || n.startsWith("init") });
    expect(failed(garbage)).toEqual([
      "handshake: the first stdout line is 1|1|unix|<socket>|grpc|",
      "init: answers spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
      "init: answers spire.service.common.config.v1.Config",
    ]);
    expect(errorOf(garbage, "handshake: the first")).toMatch(/"hello, I am not a plugin\\n" is not a go-plugin handshake line/);

    const slow = await runSuite(lifecycleSuite(goodAttestor({ handshakeTimeoutMs: 5 })), { only: (n) => n.startsWith("handshake: printed") });
    expect(failed(slow)).toEqual(["handshake: printed within the host's timeout (5 ms)"]);
  });
});

describe("hclogProblem", () => {
  it("accepts what hclog writes and names what a Go host would choke on", () => {
    const line = (o: Record<string, unknown>) => JSON.stringify(o);
    expect(hclogProblem(line({ "@level": "info", "@message": "hi", "@timestamp": "2026-11-23T09:40:00.123000Z", k: 1 }))).toBeUndefined();
    expect(hclogProblem(line({ "@level": "debug", "@message": "", "@timestamp": "2026-11-23T09:40:00.123456+01:00" }))).toBeUndefined();
    expect(hclogProblem("[INFO] plain text")).toBe("not JSON");
    expect(hclogProblem("[1,2]")).toBe("not a JSON object");
    expect(hclogProblem(line({ "@level": "info", "@timestamp": "2026-11-23T09:40:00.123000Z" }))).toBe("no @message string");
    expect(hclogProblem(line({ "@level": "notice", "@message": "x", "@timestamp": "2026-11-23T09:40:00.123000Z" }))).toMatch(/@level/);
    expect(hclogProblem(line({ "@level": "info", "@message": "x" }))).toBe("no @timestamp");
    expect(hclogProblem(line({ "@level": "info", "@message": "x", "@timestamp": "2026-11-23T09:40:00.123Z" }))).toMatch(/six-digit/);
  });
});
