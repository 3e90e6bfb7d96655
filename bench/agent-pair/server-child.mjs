// A signet-server in its own process for the agent benchmarks: started from
// the config file named by argv[2] (built dist), it prints one JSON line
// {"tcpPort":…} once serving and stops on SIGTERM.
import { createLogger } from "@signet/host-common";
import { loadServerConfig, startServer } from "@signet/server";

const server = await startServer(await loadServerConfig(process.argv[2]), { log: createLogger({ level: "error" }) });
process.stdout.write(`${JSON.stringify({ tcpPort: server.tcpPort, pid: process.pid })}\n`);
process.once("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
