/** `healthcheck` [grpc.health.v1.Health/Check on the local socket] */
import { HealthCheckResponse_ServingStatus } from "@signet/proto/grpc/health/v1/health";
import { CliError, errorText, goQuote } from "@signet/host-common";
import { apiCommand } from "../command.js";

export const healthcheck = apiCommand({
  name: "healthcheck",
  synopsis: "Determines server health status",
  output: false,
  define(fs) {
    fs.bool("shallow", false, "Perform a less stringent health check");
    const verbose = fs.bool("verbose", false, "Print verbose information");
    return async ({ env, client }) => {
      if (verbose.value) env.stdout("Checking server health...\n");
      let resp;
      try {
        resp = await client.health.check({ service: "" });
      } catch (e) {
        if (verbose.value) env.stderr(`Failed to check health: ${errorText(e)}\n`);
        throw new CliError("server is unhealthy: unable to determine health");
      }
      if (resp.status !== HealthCheckResponse_ServingStatus.SERVING) {
        const name = HealthCheckResponse_ServingStatus[resp.status] ?? String(resp.status);
        throw new CliError(`server is unhealthy: server returned status ${goQuote(name)}`);
      }
      env.stdout("Server is healthy.\n");
    };
  },
});
