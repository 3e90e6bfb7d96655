/** `healthcheck` [grpc.health.v1.Health/Check on the agent's public socket] */
import { HealthCheckResponse_ServingStatus } from "@signet/proto/grpc/health/v1/health";
import { type Command, errorText, FlagSet, goQuote, parseFlags } from "@signet/host-common";
import { addSocketFlags, resolveSocketPath } from "../socket.js";
import { connectAgent } from "../workload-client.js";

const build = () => {
  const fs = new FlagSet("health");
  // -shallow is accepted and, as in spire-agent, changes nothing: the check is one Health/Check call.
  fs.bool("shallow", false, "Perform a less stringent health check");
  const verbose = fs.bool("verbose", false, "Print verbose information");
  const socket = addSocketFlags(fs, "Path to the SPIRE Agent API socket");
  return { fs, verbose, socket };
};

export const healthcheck: Command = {
  name: "healthcheck",
  synopsis: "Determines agent health status",
  help: () => build().fs.usage(),
  async run(args, env) {
    const { fs, verbose, socket } = build();
    if (parseFlags(fs, args, env) !== 0) return 1;
    if (verbose.value) env.stdout("Checking agent health...\n");
    let socketPath: string;
    try {
      socketPath = resolveSocketPath(socket, env);
    } catch (e) {
      env.stderr(`Agent is unhealthy: ${errorText(e)}\n`);
      return 1;
    }
    const client = connectAgent(socketPath);
    try {
      const resp = await client.health.check({ service: "" });
      if (resp.status !== HealthCheckResponse_ServingStatus.SERVING) {
        const name = HealthCheckResponse_ServingStatus[resp.status] ?? String(resp.status);
        env.stderr(`Agent is unhealthy: agent returned status ${goQuote(name)}\n`);
        return 1;
      }
    } catch (e) {
      if (verbose.value) env.stderr(`Failed to check health: ${errorText(client.goError(e))}\n`);
      env.stderr("Agent is unhealthy: unable to determine health\n");
      return 1;
    } finally {
      client.close();
    }
    env.stdout("Agent is healthy.\n");
    return 0;
  },
};
