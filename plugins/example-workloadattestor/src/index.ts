/**
 * Entry point of the example WorkloadAttestor: the program a host starts.
 * `serve` does the go-plugin part (cookie check, socket, handshake line,
 * Init, Shutdown); this file only wires the Config service and the
 * WorkloadAttestor service to the code in config.ts and attestor.ts, and
 * turns errors into gRPC status codes.
 *
 * No top-level await here: the bundle this becomes is CommonJS.
 */
import { Code, RpcError, configService, createLogger, serve, workloadAttestor } from "@signet/plugin-sdk";
import { ExampleAttestor } from "./attestor.js";
import { type Settings, parseSettings } from "./config.js";

// Logs go to stderr as JSON lines, which SPIRE and Signet hosts show in their own log.
const log = createLogger();

// Until Configure runs, there are no settings, and Attest says so.
let attestor: ExampleAttestor | undefined;

const config = configService<Settings>({
  // A thrown error becomes InvalidArgument with its message, for both Configure and Validate.
  parse: (text) => parseSettings(text),
  // Configure can run again (SPIRE reloads plugin_data_file on SIGUSR1) while Attest calls are in
  // flight: replace the whole attestor at once, never mutate the one in use.
  apply: (settings) => {
    attestor = new ExampleAttestor(settings);
    log.info("Configured", {
      selector_prefix: settings.selectorPrefix,
      allowed_uids: settings.allowedUids ? [...settings.allowedUids] : "any",
    });
  },
});

const service = workloadAttestor({
  async attest(req) {
    if (!attestor) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
    try {
      return { selectorValues: await attestor.attest(req.pid) };
    } catch (e) {
      if (e instanceof RangeError) throw new RpcError(Code.INVALID_ARGUMENT, e.message);
      // Anything else is unexpected: say which PID, and let the host log it.
      throw new RpcError(Code.INTERNAL, `attesting pid ${req.pid}: ${(e as Error).message}`);
    }
  },
  // AttestReference (SPIFFE Broker API references) is left out: the SDK answers Unimplemented,
  // and hosts then fall back to Attest with the PID.
});

serve({ type: "WorkloadAttestor", plugin: service, services: [config] }).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
