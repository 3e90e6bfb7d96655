/**
 * `signet-agent validate`: spire-agent validate loads agent.conf with run's
 * flags; Signet then also does what spire-server validate does for its
 * plugins: start each configured plugin, ask it to validate its plugin data
 * (Config.Validate, never Configure) and stop it. Exit 0 with one line on
 * stdout when all is well; exit 1 with the reason on stderr otherwise.
 */
import { ConfigError } from "@signet/config";
import { type CliEnv, configDir, createLogger, errorText, metricsHostService, validateFromConfig, validationReport } from "@signet/host-common";
import type { AgentConfig } from "../../config/agent-config.js";
import { loadFromFlags } from "../../run.js";

/** As spire-server validate's validationTimeout: each plugin's start-up calls and Validate get at most this long. */
const validationTimeoutMs = 30_000;

const invalidPrefix = "SPIRE agent configuration file is invalid: ";

export async function validateAgentCommand(args: readonly string[], env: Pick<CliEnv, "stdout" | "stderr">): Promise<number> {
  const config = await loadFromFlags("validate", args, env, invalidPrefix);
  if (typeof config === "number") return config;
  try {
    const report = validationReport(await validatePlugins(config), "agent");
    env.stdout(report.stdout);
    env.stderr(report.stderr);
    return report.exitCode;
  } catch (e) {
    if (e instanceof ConfigError) {
      env.stderr(`${invalidPrefix}${e.message}\n`);
      return 1;
    }
    env.stderr(`Could not validate configuration file: ${errorText(e)}\n`);
    return 1;
  }
}

async function validatePlugins(config: AgentConfig) {
  // Plugin and host log lines are discarded; only the verdict is printed.
  const log = createLogger({ write: () => {} });
  return validateFromConfig(config.plugins, {
    side: "agent",
    trustDomain: config.trustDomain.name,
    log,
    // As at `run`: Metrics is the one host service agent plugins are offered.
    hostServices: (plugin) => [metricsHostService(plugin, log)],
    liveness: false,
    handshakeTimeoutMs: validationTimeoutMs,
    setupTimeoutMs: validationTimeoutMs,
    ...(config.source !== undefined ? { source: config.source } : {}),
    ...(config.path ? { cwd: configDir(config.path) } : {}),
  });
}
