/**
 * The shape of a CLI command, as the dispatcher sees it (mitchellh/cli's
 * Command), and Go's ContinueOnError flag parse that every command shares.
 */
import type { CliEnv } from "./env.js";
import { FlagParseError, type FlagSet } from "./flags.js";

export interface Command {
  /** The full command path, e.g. "entry create". */
  readonly name: string;
  readonly synopsis: string;
  /** Runs with the arguments after the command path; resolves to the exit code. */
  run(args: readonly string[], env: CliEnv): Promise<number>;
  /** Help text (written to stderr by the dispatcher). */
  help(): string;
  /**
   * True when the command answers `-h` itself (its flags live elsewhere, as
   * the agent's `run`): the dispatcher then passes the arguments through.
   */
  readonly ownHelp?: boolean;
}

/** Go's ContinueOnError parse: message and usage on stderr, exit 1 (0 for -h). */
export function parseFlags(fs: FlagSet, args: readonly string[], env: CliEnv): number {
  try {
    fs.parse(args);
    return 0;
  } catch (e) {
    if (!(e instanceof FlagParseError)) throw e;
    if (!e.helpRequested) env.stderr(`${e.message}\n`);
    env.stderr(fs.usage());
    return 1;
  }
}
