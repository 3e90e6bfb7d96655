/**
 * A WorkloadAttestor that reports back what its host did to it, for tests that
 * run Signet plugins under Go go-plugin hosts (SPIRE's own catalog among them).
 * Attest answers with selectors describing the session:
 *   pid:<pid>                 the PID asked about
 *   config:<colour>           from the configuration, read with the SDK's decodePluginConfig (JSON or HCL v1)
 *   raw-config:<base64>       the exact hcl_configuration text Configure received
 *   trust-domain:<name>       from Configure's core configuration
 *   host-services:<a,b>       the host service names offered at Init
 *   metrics:<ok|error text>   a Metrics IncrCounter call through the brokered host connection
 *   self:<pid>                this process
 * It logs at every level (with fields) so a host's log relay can be checked,
 * and writes to stdout after the handshake (go-plugin carries that over GRPCStdio).
 *
 * First argument: "good" (default) or "bad-config" (Configure fails with
 * "colour: must be one of red, green, blue").
 */
import { MetricsService } from "@signet/proto/spire/hostservice/common/metrics/v1/metrics";
import {
  Code,
  RpcError,
  configService,
  createClient,
  createLogger,
  decodePluginConfig,
  object,
  oneOf,
  serve,
  workloadAttestor,
  type HostConnection,
} from "@signet/plugin-sdk";

const metricsServiceName = "spire.hostservice.common.metrics.v1.Metrics";
const mode = process.argv[2] ?? "good";
const log = createLogger();

interface Settings {
  colour: string;
  raw: string;
  trustDomain: string;
}
let settings: Settings | undefined;
let host: HostConnection | undefined;
let calls = 0;

const schema = object({ colour: oneOf(["red", "green", "blue"]) });

const config = configService<Settings>({
  async parse(text, core) {
    if (mode === "bad-config") throw new Error("colour: must be one of red, green, blue");
    const { colour } = await decodePluginConfig(schema, text);
    return { colour, raw: text, trustDomain: core.trustDomain };
  },
  apply(value) {
    settings = value;
    log.info("Configured", { colour: value.colour, config_bytes: value.raw.length, nested: { depth: 1, list: [1, 2] } });
  },
});

async function emitMetric(pid: number): Promise<string> {
  if (!host?.offered.has(metricsServiceName)) return "not-offered";
  try {
    const metrics = createClient(MetricsService, await host.channel());
    await metrics.incrCounter({ key: ["interop_plugin", "attest"], val: 1, labels: [{ name: "pid", value: String(pid) }] }, { deadline: 5_000 });
    return "ok";
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

serve({
  type: "WorkloadAttestor",
  plugin: workloadAttestor({
    async attest(req) {
      if (!settings) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
      if (req.pid <= 0) throw new RpcError(Code.INVALID_ARGUMENT, "pid must be positive");
      calls++;
      const metrics = await emitMetric(req.pid);
      log.trace("Attest trace line", { pid: req.pid });
      log.debug("Attest debug line", { pid: req.pid });
      log.warn("Attest warn line", { pid: req.pid, call: calls });
      log.error("Attest error line (expected in tests)", { pid: req.pid, unicode: "héllo ✓" });
      // After the handshake stdout belongs to go-plugin's GRPCStdio stream.
      process.stdout.write(`stdout line from attest ${calls}\n`);
      return {
        selectorValues: [
          `pid:${req.pid}`,
          `config:${settings.colour}`,
          `raw-config:${Buffer.from(settings.raw).toString("base64")}`,
          `trust-domain:${settings.trustDomain}`,
          `host-services:${[...(host?.offered ?? [])].sort().join(",")}`,
          `metrics:${metrics}`,
          `self:${process.pid}`,
        ],
      };
    },
  }),
  services: [config],
  onInit(h) {
    host = h;
    log.info("Init received", { host_services: [...h.offered] });
  },
  onDeinit() {
    log.info("Deinit received");
  },
}).catch((e: unknown) => {
  // No top-level await: plugin bundles are CommonJS.
  log.error("Failed to serve", { error: (e as Error).message });
  process.exit(1);
});
