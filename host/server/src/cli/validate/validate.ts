/**
 * `validate`: what spire-server validate does. Load server.conf with run's
 * flags, then start every configured plugin, ask it to validate its plugin
 * data (Config.Validate, never Configure) and stop it. Exit 0 and one line
 * on stdout when all is well; exit 1 with the reason on stderr otherwise.
 */
import { ConfigError } from "@signet/config";
import { type CliEnv, type Command, configDir, createLogger, errorText, parseFlags, validateFromConfig, validationReport } from "@signet/host-common";
import type { ServerConfig } from "../../config/server-config.js";
import { missingConfigError, runFlagSet } from "../run/flags.js";
import { importLoader } from "../run/run.js";

/** SPIRE's validationTimeout: each plugin's start-up calls and Validate get at most this long. */
const validationTimeoutMs = 30_000;

export const validate: Command = {
  name: "validate",
  synopsis: "Validates a SPIRE server configuration file",
  help: () => `${runFlagSet("validate").fs.usage()}flag: help requested\n`,
  async run(args: readonly string[], env: CliEnv): Promise<number> {
    const { fs, result } = runFlagSet("validate");
    const parsed = parseFlags(fs, args, env);
    if (parsed !== 0) return parsed;
    const flags = result();
    const invalid = (why: string) => {
      env.stderr(`SPIRE server configuration file is invalid: ${why}\n`);
      return 1;
    };
    const missing = await missingConfigError(flags.configPath);
    if (missing) return invalid(missing);
    let config: ServerConfig;
    try {
      const { loadServerConfig } = await importLoader();
      config = await loadServerConfig(flags.configPath, { expandEnv: flags.expandEnv, flags: flags.overrides });
    } catch (e) {
      return invalid(errorText(e));
    }
    try {
      const report = validationReport(await validatePlugins(config), "server");
      env.stdout(report.stdout);
      env.stderr(report.stderr);
      return report.exitCode;
    } catch (e) {
      if (e instanceof ConfigError) return invalid(e.message);
      env.stderr(`Could not validate configuration file: ${errorText(e)}\n`);
      return 1;
    }
  },
};

async function validatePlugins(config: ServerConfig) {
  // As spire-server validate: plugin and host log lines are discarded; only the verdict is printed.
  const log = createLogger({ write: () => {} });
  // Offered as at `run` (plugins may look for them at Init); never bound, so a call answers FailedPrecondition.
  const { ServerHostServices } = await import("../../hostservices/index.js");
  const hostServices = new ServerHostServices(config.trustDomain.name, log);
  return validateFromConfig(config.plugins, {
    side: "server",
    trustDomain: config.trustDomain.name,
    log,
    hostServices: hostServices.forPlugin,
    liveness: false,
    handshakeTimeoutMs: validationTimeoutMs,
    setupTimeoutMs: validationTimeoutMs,
    ...(config.source !== undefined ? { source: config.source } : {}),
    ...(config.path ? { cwd: configDir(config.path) } : {}),
  });
}
