/**
 * The WorkloadAttestor suite. A host asks every attestor about every
 * workload, so "not mine" must be an answer (success, no selectors), bad
 * input must not take the plugin down, and many calls at once must all be
 * answered. Reference: plugin-protocol.md §3.10.
 */
import { spawn } from "node:child_process";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { Code, expect, expectOk, fail, outcome, describeRpcError, quote } from "./assert.js";
import { defineCheck, defineSuite } from "./define.js";
import { PluginHarness } from "./harness.js";
import { type PluginUnderTest, resolvePlugin } from "./plugin.js";
import type { Check, Suite } from "./suite.js";

export interface WorkloadAttestorSuiteOptions {
  /**
   * What the plugin answers for a PID it cannot see (an exited process):
   * "empty" (default; SPIRE's rule: not mine = success with no selectors) or
   * "error" (a failure with a message, as SPIRE's unix attestor does).
   */
  readonly unknownPid?: "empty" | "error";
  /** Judges the selectors for the test runner's own PID (throw to fail). */
  readonly expectOwnSelectors?: (selectorValues: readonly string[], pid: number) => void | Promise<void>;
  /** How many Attest calls to make at once; default 50. */
  readonly concurrentCalls?: number;
}

export function workloadAttestorSuite(pluginUnderTest: PluginUnderTest, options: WorkloadAttestorSuiteOptions = {}): Suite {
  const plugin = resolvePlugin({ ...pluginUnderTest, sides: ["agent"] });
  const harness = new PluginHarness(plugin);
  const unknownPid = options.unknownPid ?? "empty";
  const concurrent = options.concurrentCalls ?? 50;
  const deadline = () => ({ deadline: plugin.callTimeoutMs });
  const client = async () => (await harness.shared()).client(WorkloadAttestorService);

  async function attestOwnPid(): Promise<string[]> {
    const c = await client();
    const res = await expectOk(c.attest({ pid: process.pid }, deadline()), `Attest(${process.pid}, the test runner itself)`);
    const bad = res.selectorValues.filter((v) => typeof v !== "string" || v.trim() === "");
    expect(bad.length === 0, `Attest(${process.pid}) answered empty selector values: ${JSON.stringify(res.selectorValues)}`);
    return res.selectorValues;
  }

  const check = (name: string, run: () => Promise<void>, timeoutMs?: number) => defineCheck(harness, name, run, timeoutMs);
  const checks: Check[] = [
    check("attest: the test runner's own PID answers selectors (possibly none) without error", async () => {
      const selectors = await attestOwnPid();
      await options.expectOwnSelectors?.(selectors, process.pid);
    }),
    check(
      unknownPid === "empty"
        ? "attest: an exited process's PID answers no selectors (not mine = success, none)"
        : "attest: an exited process's PID fails with a clear error",
      async () => {
        const c = await client();
        const pid = await exitedPid();
        const r = await outcome(c.attest({ pid }, deadline()));
        if (unknownPid === "empty") {
          if (!r.ok) fail(`Attest(${pid}) of an exited process failed with ${describeRpcError(r.error)}; a PID that is not yours must answer no selectors`);
          expect(r.value.selectorValues.length === 0, `Attest(${pid}) of an exited process answered selectors ${JSON.stringify(r.value.selectorValues)}`);
        } else {
          if (r.ok) fail(`Attest(${pid}) of an exited process succeeded (${JSON.stringify(r.value)}), but the plugin declares it fails`);
          expect(r.error.message.trim() !== "", `Attest(${pid}) of an exited process failed with ${describeRpcError(r.error)} and no message`);
        }
        await attestOwnPid();
      },
    ),
    check("attest: negative PIDs are refused with InvalidArgument or answer no selectors, and the plugin keeps answering", async () => {
      const c = await client();
      for (const pid of [-1, -2147483648]) {
        const r = await outcome(c.attest({ pid }, deadline()));
        if (r.ok) {
          expect(r.value.selectorValues.length === 0, `Attest(${pid}) answered selectors ${JSON.stringify(r.value.selectorValues)}`);
        } else if (r.error.code !== Code.INVALID_ARGUMENT && unknownPid === "empty") {
          fail(`Attest(${pid}) failed with ${describeRpcError(r.error)}; expected InvalidArgument or no selectors`);
        } else {
          expect(r.error.message.trim() !== "", `Attest(${pid}) failed with ${describeRpcError(r.error)} and no message`);
        }
      }
      const session = await harness.shared();
      expect(session.exited === undefined, `after attesting negative PIDs, ${session.describeExit()}`);
      await attestOwnPid();
    }),
    check(`attest: ${concurrent} concurrent calls all answer, alike`, async () => {
      const c = await client();
      const expected = sorted(await attestOwnPid());
      const results = await Promise.all(Array.from({ length: concurrent }, () => outcome(c.attest({ pid: process.pid }, deadline()))));
      const failed = results.filter((r) => !r.ok);
      const first = failed[0];
      if (first && !first.ok) {
        fail(`${failed.length} of ${concurrent} concurrent Attest calls failed, e.g. with ${describeRpcError(first.error)}`);
      }
      for (const r of results) {
        if (!r.ok) continue;
        const got = sorted(r.value.selectorValues);
        expect(
          got === expected,
          `a concurrent Attest(${process.pid}) answered ${quote(got)}, a single one ${quote(expected)}`,
        );
      }
    }),
  ];

  return defineSuite("WorkloadAttestor", harness, checks, {
    setup: async () => {
      await harness.shared().catch(() => {});
    },
  });
}

function sorted(values: readonly string[]): string {
  return JSON.stringify([...values].sort());
}

/** The PID of a process that has just exited (and, in all likelihood, not been reused yet). */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  await new Promise((resolve) => child.once("exit", resolve));
  if (pid === undefined) throw new Error("could not start a short-lived process to get an exited PID");
  return pid;
}
