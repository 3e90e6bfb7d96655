/**
 * The adapter every `api` command goes through (spire-agent's api adapter):
 * `-timeout` (5s), `-socketPath`/`-instance`, one client, and any failure
 * printed as its bare message on one stderr line with exit 1.
 */
import { type CliEnv, type Command, errorText, FlagParseError, FlagSet } from "@signet/host-common";
import { addSocketFlags, resolveSocketPath } from "../socket.js";
import { type AgentClient, connectAgent } from "../workload-client.js";

const commandTimeoutNanos = 5_000_000_000n;

export interface ApiContext {
  readonly env: CliEnv;
  readonly client: AgentClient;
}

export type Action = (ctx: ApiContext) => Promise<void>;

export interface ApiCommandSpec {
  /** The path under `api`, e.g. "fetch x509"; it also names the flag set ("Usage of fetch x509:"). */
  readonly name: string;
  readonly synopsis: string;
  /** Defines the command's own flags and returns the action that reads them. */
  readonly define: (fs: FlagSet) => Action;
}

export function apiCommand(spec: ApiCommandSpec, path = `api ${spec.name}`): Command {
  const build = () => {
    const fs = new FlagSet(spec.name);
    const timeout = fs.durationVar("timeout", commandTimeoutNanos, "Time to wait for a response");
    const socket = addSocketFlags(fs);
    const action = spec.define(fs);
    return { fs, timeout, socket, action };
  };
  return {
    name: path,
    synopsis: spec.synopsis,
    help: () => build().fs.usage(),
    async run(args, env) {
      const { fs, timeout, socket, action } = build();
      if (!parseAdapterFlags(fs, args, env)) return 1;
      let client: AgentClient;
      try {
        client = connectAgent(resolveSocketPath(socket, env), timeoutMs(timeout.value));
      } catch (e) {
        env.stderr(`${errorText(e)}\n`);
        return 1;
      }
      try {
        await action({ env, client });
        return 0;
      } catch (e) {
        env.stderr(`${errorText(client.goError(e))}\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}

/** A positive timeout as whole milliseconds (at least 1); 0 for none, as Go ignores timeouts <= 0. */
function timeoutMs(nanos: bigint): number {
  if (nanos <= 0n) return 0;
  return Math.max(1, Number(nanos / 1_000_000n));
}

/**
 * Go's flag.Parse (ContinueOnError) prints the reason and the usage, then the
 * adapter prints the reason again: spire-agent's exact stderr on a bad flag.
 */
export function parseAdapterFlags(fs: FlagSet, args: readonly string[], env: CliEnv): boolean {
  try {
    fs.parse(args);
    return true;
  } catch (e) {
    if (!(e instanceof FlagParseError)) throw e;
    if (!e.helpRequested) env.stderr(`${e.message}\n`);
    env.stderr(fs.usage());
    env.stderr(`${e.message}\n`);
    return false;
  }
}
