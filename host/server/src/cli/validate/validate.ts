/** `validate`: load and check server.conf without starting anything. */
import { type CliEnv, type Command, errorText, parseFlags } from "@signet/host-common";
import { missingConfigError, runFlagSet } from "../run/flags.js";
import { importLoader } from "../run/run.js";

export const validate: Command = {
  name: "validate",
  synopsis: "Validates a SPIRE server configuration file",
  help: () => `${runFlagSet("validate").fs.usage()}flag: help requested\n`,
  async run(args: readonly string[], env: CliEnv): Promise<number> {
    const { fs, result } = runFlagSet("validate");
    const parsed = parseFlags(fs, args, env);
    if (parsed !== 0) return parsed;
    const flags = result();
    const missing = await missingConfigError(flags.configPath);
    if (missing) {
      env.stderr(`SPIRE server configuration file is invalid: ${missing}\n`);
      return 1;
    }
    try {
      const { loadServerConfig } = await importLoader();
      await loadServerConfig(flags.configPath, { expandEnv: flags.expandEnv, flags: flags.overrides });
    } catch (e) {
      env.stderr(`SPIRE server configuration file is invalid: ${errorText(e)}\n`);
      return 1;
    }
    env.stdout("SPIRE server configuration file is valid.\n");
    return 0;
  },
};
