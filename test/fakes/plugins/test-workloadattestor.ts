/**
 * A WorkloadAttestor used by the catalog tests. Its behaviour is chosen by
 * its first argument, so one program plays every kind of plugin a host meets:
 *   good            selectors "pid:<pid>" and "config:<value of plugin_data key>"
 *   crash-on-call   exits with code 3 during the first Attest call
 *   hang            never answers Attest
 *   bad-config      Configure fails ("colour: must be red or blue")
 *   early-exit      exits with code 2 before the handshake, after a stderr line
 *   garbage         prints a non-handshake line on stdout
 *   no-config       serves no Config service
 *   wrong-type      serves a KeyManager instead
 *   slow-shutdown   ignores Shutdown and SIGTERM
 */
import { Code, RpcError, configService, createLogger, keyManager, serve, workloadAttestor } from "@signet/plugin-sdk";

const mode = process.argv[2] ?? "good";
const log = createLogger();
let configured = "";

if (mode === "early-exit") {
  process.stderr.write("fatal: cannot open /nonexistent/key\n");
  process.exit(2);
}
if (mode === "garbage") {
  process.stdout.write("hello, I am not a plugin\n");
  setInterval(() => {}, 1000);
} else {
  const config = configService<string>({
    parse(text) {
      if (mode === "bad-config") throw new Error("colour: must be red or blue");
      if (text === "") return "";
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return String(parsed.colour ?? "");
    },
    apply(value) {
      configured = value;
      log.info("Configured", { colour: value });
    },
  });
  const plugin =
    mode === "wrong-type"
      ? keyManager.agent({})
      : workloadAttestor({
          async attest(req) {
            if (mode === "crash-on-call") process.exit(3);
            if (mode === "hang") return new Promise(() => {});
            if (req.pid < 0) throw new RpcError(Code.INVALID_ARGUMENT, "pid must be positive");
            return { selectorValues: [`pid:${req.pid}`, `config:${configured}`, `self:${process.pid}`] };
          },
        });
  // A library's process warning (as the AWS SDK prints on Node 20) must reach the host as a log line.
  void serve({
    type: "WorkloadAttestor",
    plugin,
    services: mode === "no-config" ? [] : [config],
  }).then(() => process.emitWarning("this Node.js version is past its support date", { type: "NodeVersionSupportWarning", code: "TEST_WARNING" }));
  if (mode === "slow-shutdown") {
    process.removeAllListeners("SIGTERM");
    process.on("SIGTERM", () => {});
  }
}
