import type { CliEnv } from "@signet/host-common";
import { implement } from "@signet/proto";
import { HealthCheckResponse_ServingStatus, HealthService } from "@signet/proto/grpc/health/v1/health";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUnixApiServer, type UnixApiServer } from "../../../../../test/fakes/server-api/unix-server.js";
import { runAgentCli } from "../cli.js";

let status = HealthCheckResponse_ServingStatus.SERVING;
const health = implement(HealthService, {
  async check() {
    return { status };
  },
});

let server: UnixApiServer;
beforeAll(async () => {
  server = await startUnixApiServer([health]);
});
afterAll(async () => {
  await server.stop();
});

async function cli(args: string[]) {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars: {},
    baseDir: "",
  };
  return { code: await runAgentCli(args, env), ...out };
}

describe("healthcheck", () => {
  it("reports a serving agent as healthy", async () => {
    status = HealthCheckResponse_ServingStatus.SERVING;
    expect(await cli(["healthcheck", "-socketPath", server.socketPath])).toEqual({ code: 0, stdout: "Agent is healthy.\n", stderr: "" });
    expect(await cli(["healthcheck", "-socketPath", server.socketPath, "-verbose", "-shallow"])).toEqual({
      code: 0,
      stdout: "Checking agent health...\nAgent is healthy.\n",
      stderr: "",
    });
  });

  it("reports any other status with its name", async () => {
    status = HealthCheckResponse_ServingStatus.NOT_SERVING;
    expect(await cli(["healthcheck", "-socketPath", server.socketPath])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'Agent is unhealthy: agent returned status "NOT_SERVING"\n',
    });
  });

  it("cannot determine the health of an agent it cannot reach (the reason only with -verbose)", async () => {
    const sock = "/nonexistent/signet/api.sock";
    expect(await cli(["healthcheck", "-socketPath", sock])).toEqual({ code: 1, stdout: "", stderr: "Agent is unhealthy: unable to determine health\n" });
    const v = await cli(["healthcheck", "-socketPath", sock, "-verbose"]);
    expect(v.code).toBe(1);
    expect(v.stderr).toBe(
      `Failed to check health: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${sock}: connect: no such file or directory"\n` +
        "Agent is unhealthy: unable to determine health\n",
    );
  });

  it("prints the flag set for -h and rejects unknown flags", async () => {
    const h = await cli(["healthcheck", "-h"]);
    expect(h.code).toBe(0);
    expect(h.stderr).toBe(`Usage of health:
  -instance string
    \tInstance name to substitute into socket templates (env SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE).
  -shallow
    \tPerform a less stringent health check
  -socketPath string
    \tPath to the SPIRE Agent API socket (default "/tmp/spire-agent/public/api.sock")
  -verbose
    \tPrint verbose information
`);
    const bad = await cli(["healthcheck", "-nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.startsWith("flag provided but not defined: -nope\nUsage of health:\n")).toBe(true);
  });
});
