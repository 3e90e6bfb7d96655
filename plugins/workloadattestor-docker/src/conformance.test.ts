/**
 * The docker attestor, bundled as it ships, against the conformance kit: the
 * launch contract, then the WorkloadAttestor checks. Configured in HCL, as a
 * stock SPIRE agent sends plugin_data, with the Docker socket pointed at the
 * fake engine so no real daemon is touched. The test runner is not in a
 * container here, so its own PID answers no selectors; exited PIDs answer
 * none as well (SPIRE's locator finds no /proc files: not a container).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@signet/plugin-sdk";
import { PluginHarness, type PluginUnderTest, lifecycleSuite, registerWithVitest, workloadAttestorSuite } from "@signet/plugin-sdk/conformance";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { FakeDockerEngine } from "../../../test/fakes/docker/engine.js";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "workloadattestor-docker");
const engine = await FakeDockerEngine.start();
const vitest = { describe, it, beforeAll, afterAll };
afterAll(() => engine.close());

const plugin: PluginUnderTest = {
  type: "WorkloadAttestor",
  file,
  config: `docker_socket_path = "${engine.url}"\nverbose_container_locator_logs = true`,
  badConfigs: [
    { name: "an unknown key", text: 'docker_socket = "unix:///var/run/docker.sock"', message: "docker_socket" },
    { name: "a sigstore block", text: "sigstore {\n  ignore_tlog = true\n}", message: /sigstore: image signature verification \(sigstore\) is not supported/ },
    { name: "matchers with the new locator", text: 'container_id_cgroup_matchers = ["/docker/<id>"]', message: /container_id_cgroup_matchers: the new container locator and custom cgroup matchers cannot both be used/ },
    { name: "a malformed docker_version", text: JSON.stringify({ docker_version: "1" }), message: /docker_version: invalid API version \(1\)/ },
    { name: "a socket path without scheme", text: 'docker_socket_path = "/var/run/docker.sock"', message: /docker_socket_path: unable to parse docker host/ },
  ],
};

registerWithVitest(lifecycleSuite(plugin), vitest);
registerWithVitest(
  workloadAttestorSuite(plugin, {
    unknownPid: "empty",
    expectOwnSelectors: (values) => {
      expect(values).toEqual([]);
      expect(engine.requests).toEqual([]);
    },
  }),
  vitest,
);

describe("status codes over the wire, as SPIRE's docker attestor answers", () => {
  const resolved = { ...plugin, node: true, args: [], configurable: true, trustDomain: "example.org", badConfigs: [], handshakeTimeoutMs: 60_000, callTimeoutMs: 30_000 };
  const harness = new PluginHarness(resolved);
  afterAll(() => harness.close());
  const deadline = () => ({ deadline: Date.now() + 10_000 });

  it("no selectors for PID 0, Unimplemented for AttestReference", async () => {
    const client = (await harness.shared()).client(WorkloadAttestorService);
    expect(await client.attest({ pid: 0 }, deadline())).toEqual({ selectorValues: [] });
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
