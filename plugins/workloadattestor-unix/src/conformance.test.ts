/**
 * The unix attestor, bundled as it ships, against the conformance kit: the
 * launch contract, then the WorkloadAttestor checks. It is configured in HCL,
 * as a stock SPIRE agent sends plugin_data, and fails for exited PIDs as
 * SPIRE's unix attestor does.
 */
import { spawn, spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@signet/plugin-sdk";
import { PluginHarness, type PluginUnderTest, lifecycleSuite, registerWithVitest, workloadAttestorSuite } from "@signet/plugin-sdk/conformance";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "workloadattestor-unix");
const vitest = { describe, it, beforeAll, afterAll };
const id = (...args: string[]) => spawnSync("id", args, { encoding: "utf8" }).stdout.trim();

const plugin: PluginUnderTest = {
  type: "WorkloadAttestor",
  file,
  // Hashing the Node binary (~100 MB) on every call would only slow the checks down: path only.
  config: "discover_workload_path = true\nworkload_size_limit = -1",
  badConfigs: [
    { name: "an unknown key", text: "discover_workload_paths = true", message: "discover_workload_paths" },
    { name: "a string for a boolean", text: 'discover_workload_path = "yes"', message: /discover_workload_path: expected a boolean/ },
    { name: "a fraction for the size limit", text: JSON.stringify({ workload_size_limit: 1.5 }), message: /workload_size_limit: expected an integer/ },
  ],
};

registerWithVitest(lifecycleSuite(plugin), vitest);
registerWithVitest(
  workloadAttestorSuite(plugin, {
    unknownPid: "error",
    expectOwnSelectors: (values) => {
      expect(values.slice(0, 4)).toEqual([`uid:${id("-u")}`, `user:${id("-un")}`, `gid:${id("-g")}`, `group:${id("-gn")}`]);
      const supplementary = values.filter((v) => v.startsWith("supplementary_gid:")).map((v) => Number(v.slice("supplementary_gid:".length)));
      expect(new Set([...supplementary, process.getegid!()])).toEqual(new Set(process.getgroups!()));
      expect(values.at(-1)).toBe(`path:${realpathSync(process.execPath)}`);
    },
  }),
  vitest,
);

describe("status codes over the wire, as SPIRE's unix attestor answers", () => {
  const resolved = { ...plugin, node: true, args: [], configurable: true, trustDomain: "example.org", badConfigs: [], handshakeTimeoutMs: 60_000, callTimeoutMs: 30_000 };
  const harness = new PluginHarness(resolved);
  afterAll(() => harness.close());
  const deadline = () => ({ deadline: Date.now() + 10_000 });

  it("Internal for an exited PID, InvalidArgument for PID 0, Unimplemented for AttestReference", async () => {
    const client = (await harness.shared()).client(WorkloadAttestorService);
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    await expect(client.attest({ pid: child.pid! }, deadline())).rejects.toMatchObject({ code: Code.INTERNAL, message: "failed to get process: process does not exist" });
    await expect(client.attest({ pid: 0 }, deadline())).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "failed to get process: invalid pid 0" });
    await expect(client.attestReference({ reference: undefined }, deadline())).rejects.toMatchObject({ code: Code.UNIMPLEMENTED, message: "AttestReference not implemented" });
  });

  it("FailedPrecondition before Configure", async () => {
    const session = await harness.launch({ configure: false });
    await expect(session.client(WorkloadAttestorService).attest({ pid: process.pid }, deadline())).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: "not configured",
    });
  });
});
