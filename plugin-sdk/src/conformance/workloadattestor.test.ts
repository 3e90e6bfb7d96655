/**
 * The WorkloadAttestor suite against the catalog's fixture attestor, which
 * is good at most things but claims every PID as its own, and which can be
 * made to crash on its first call.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import type { PluginUnderTest } from "./plugin.js";
import { type SuiteResult, runSuite } from "./suite.js";
import { workloadAttestorSuite } from "./workloadattestor.js";

let file = "";

beforeAll(async () => {
  file = await buildPlugin(join(__dirname, "../../../test/fakes/plugins/test-workloadattestor.ts"), "conformance-wa-test-workloadattestor");
});

const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const errorOf = (r: SuiteResult, name: string) => r.results.find((c) => c.name === name)?.error?.message ?? "";
const fixture = (mode: string): PluginUnderTest => ({ type: "WorkloadAttestor", file, args: [mode], config: JSON.stringify({ colour: "red" }) });

const notMine = "attest: an exited process's PID answers no selectors (not mine = success, none)";

describe("workloadAttestorSuite", () => {
  it("passes the fixture on everything but the PIDs it wrongly claims", async () => {
    const seen: string[][] = [];
    const r = await runSuite(
      workloadAttestorSuite(fixture("good"), {
        expectOwnSelectors: (values, pid) => {
          seen.push([...values]);
          expect(values).toContain(`pid:${pid}`);
        },
      }),
    );
    expect(r.results.map((c) => c.name)).toEqual([
      "attest: the test runner's own PID answers selectors (possibly none) without error",
      notMine,
      "attest: negative PIDs are refused with InvalidArgument or answer no selectors, and the plugin keeps answering",
      "attest: 50 concurrent calls all answer, alike",
    ]);
    expect(failed(r)).toEqual([notMine]);
    expect(errorOf(r, notMine)).toMatch(/of an exited process answered selectors \["pid:\d+","config:red","self:\d+"\]/);
    expect(seen).toEqual([[`pid:${process.pid}`, "config:red", expect.stringMatching(/^self:\d+$/)]]);
  });

  it("fails the own-PID check when the author's judgement of the selectors fails", async () => {
    const r = await runSuite(
      workloadAttestorSuite(fixture("good"), {
        expectOwnSelectors: (values) => {
          if (!values.includes("uid:0")) throw new Error("expected a uid selector");
        },
      }),
      { only: (n) => n.startsWith("attest: the test runner's own PID") },
    );
    expect(failed(r)).toHaveLength(1);
    expect(r.results[0]?.error?.message).toBe("expected a uid selector");
  });

  it("holds a plugin that declares errors for unknown PIDs to its word", async () => {
    const r = await runSuite(workloadAttestorSuite(fixture("good"), { unknownPid: "error" }), { only: (n) => n.startsWith("attest: an exited") });
    expect(failed(r)).toEqual(["attest: an exited process's PID fails with a clear error"]);
    expect(r.results[0]?.error?.message).toMatch(/succeeded .* but the plugin declares it fails/);
  });

  it("fails every check of a plugin that dies when called, and says that it died", async () => {
    const r = await runSuite(workloadAttestorSuite(fixture("crash-on-call")));
    expect(r.failed).toBe(4);
    expect(r.results[0]?.error?.message).toMatch(/exited with code 3/);
  });
});
