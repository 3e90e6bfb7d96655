/**
 * `run`, and the shape of the daemon's commands (`run`, `validate`): their
 * flags, config loading and messages live with the daemon (../../run.ts),
 * loaded only when one of them runs so the api commands start fast. For
 * `-h` their flag set prints the usage and, as with spire-agent, the exit
 * code is 0.
 */
import type { CliEnv, Command } from "@signet/host-common";

export type DaemonCommand = (args: readonly string[], env: CliEnv) => Promise<number>;

export function daemonCommand(name: string, synopsis: string, load: () => Promise<DaemonCommand>): Command {
  return {
    name,
    synopsis,
    ownHelp: true,
    help: () => "",
    async run(args, env) {
      const command = await load();
      if (wantsHelp(args)) {
        await command(["-h"], env);
        return 0;
      }
      return command(args, env);
    },
  };
}

/** The dispatcher's help rule: -h, -help or --help anywhere before "--". */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "-h" || a === "-help" || a === "--help") return true;
  }
  return false;
}

export const run = daemonCommand("run", "Runs the agent", async () => (await import("../../run.js")).runAgentCommand);
