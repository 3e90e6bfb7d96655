/**
 * The unix WorkloadAttestor program a host starts (Signet, or a stock SPIRE
 * agent): `serve` does the go-plugin part; this file wires the Config and
 * WorkloadAttestor services to config.ts and attestor.ts and maps error
 * kinds to gRPC codes. No top-level await: the bundle is CommonJS.
 */
import { Code, PluginError, RpcError, configService, createLogger, serve, workloadAttestor } from "@signet/plugin-sdk";
import { UnixAttestor } from "./attestor.js";
import { type Settings, parseSettings } from "./config.js";

const log = createLogger();

// Replaced whole on every Configure (SPIRE reloads plugin_data_file), never mutated under a running Attest.
let attestor: UnixAttestor | undefined;

const config = configService<Settings>({
  parse: (text) => parseSettings(text),
  apply: (settings) => {
    attestor = new UnixAttestor(settings);
    log.info("Configured", {
      discover_workload_path: settings.discoverWorkloadPath,
      workload_size_limit: settings.workloadSizeLimit,
    });
  },
});

const service = workloadAttestor({
  async attest(req) {
    if (!attestor) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
    try {
      return { selectorValues: await attestor.attest(req.pid) };
    } catch (e) {
      throw toRpcError(e, req.pid);
    }
  },
  async attestReference() {
    // SPIRE's words; hosts fall back to Attest with the PID.
    throw new RpcError(Code.UNIMPLEMENTED, "AttestReference not implemented");
  },
});

function toRpcError(e: unknown, pid: number): RpcError {
  if (e instanceof PluginError) return new RpcError(e.code, e.message);
  log.error("Unexpected error attesting a workload", { pid, error: e });
  return new RpcError(Code.INTERNAL, `attesting pid ${pid}: ${e instanceof Error ? e.message : String(e)}`);
}

serve({ type: "WorkloadAttestor", plugin: service, services: [config] }).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
