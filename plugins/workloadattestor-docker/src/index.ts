/**
 * The docker WorkloadAttestor program a host starts (Signet, or a stock
 * SPIRE agent): `serve` does the go-plugin part; this file wires the Config
 * and WorkloadAttestor services to config.ts and attestor.ts, and maps error
 * kinds to gRPC codes (the SDK's toRpcError). No top-level await: the bundle is CommonJS.
 */
import { Code, PluginError, RpcError, configService, createLogger, serve, toRpcError, workloadAttestor } from "@signet/plugin-sdk";
import { DockerAttestor } from "./attestor.js";
import { type Settings, parseSettings } from "./config.js";

const log = createLogger();

// Replaced whole on every Configure (SPIRE reloads plugin_data_file), never mutated under a running Attest.
let attestor: DockerAttestor | undefined;

const config = configService<Settings>({
  parse: (text) => parseSettings(text),
  apply: (settings) => {
    const previous = attestor;
    attestor = new DockerAttestor(settings, { log });
    previous?.close();
    for (const note of settings.notes) log.info(note);
    log.info("Configured", {
      docker_socket_path: settings.dockerHost.url,
      docker_version: settings.dockerVersion ?? "(negotiated)",
      podman_socket_path: settings.podman.rootful,
      podman_socket_path_template: settings.podman.rootlessTemplate,
    });
  },
});

const service = workloadAttestor({
  async attest(req, ctx) {
    const current = attestor;
    if (!current) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
    try {
      return { selectorValues: await current.attest(req.pid, ctx.signal) };
    } catch (e) {
      if (!(e instanceof PluginError)) log.error("Unexpected error attesting a workload", { pid: req.pid, error: e });
      throw toRpcError(e);
    }
  },
  async attestReference() {
    // SPIRE's words; hosts fall back to Attest with the PID.
    throw new RpcError(Code.UNIMPLEMENTED, "AttestReference not implemented");
  },
});

serve({ type: "WorkloadAttestor", plugin: service, services: [config] }).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
