/**
 * Where the agent CLI finds the agent's public socket, as spire-agent does
 * (cmd/spire-agent/cli/common): `-socketPath`, else `-instance` through
 * SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE, else SPIRE_AGENT_PUBLIC_SOCKET, else
 * the default; made absolute. SPIFFE_ENDPOINT_SOCKET is not consulted: the
 * CLI always dials an explicit address, as spire-agent's does.
 */
import path from "node:path";
import { type Box, type CliEnv, CliError, type FlagSet } from "@signet/host-common";

export const defaultSocketPath = "/tmp/spire-agent/public/api.sock";

const templateEnv = "SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE";
const socketEnv = "SPIRE_AGENT_PUBLIC_SOCKET";

export interface SocketFlags {
  readonly socketPath: Box<string>;
  readonly instance: Box<string>;
}

/** Adds `-socketPath` and `-instance`; `usage` is the -socketPath text the command shows. */
export function addSocketFlags(fs: FlagSet, usage = "Path to the SPIRE Agent API Unix domain socket"): SocketFlags {
  return {
    socketPath: fs.string("socketPath", defaultSocketPath, usage),
    instance: fs.string("instance", "", `Instance name to substitute into socket templates (env ${templateEnv}).`),
  };
}

/** The absolute socket path the flags and environment name; CliError with SPIRE's wording otherwise. */
export function resolveSocketPath(flags: SocketFlags, env: CliEnv): string {
  const tpl = env.vars[templateEnv] ?? "";
  const sock = env.vars[socketEnv] ?? "";
  const instance = flags.instance.value;
  if (instance !== "") {
    // SPIRE's message starts with a space; kept for scripts that match it.
    if (tpl === "") throw new CliError(` ${templateEnv} environment variable must be defined when using the instance flag`);
    if (!tpl.includes("%i")) throw new CliError(`failed to find %i in ${templateEnv}`);
  }
  let chosen: string;
  if (flags.socketPath.value !== defaultSocketPath) chosen = flags.socketPath.value;
  else if (instance !== "") chosen = tpl.replaceAll("%i", instance);
  else if (sock !== "") chosen = sock;
  else chosen = defaultSocketPath;
  return path.resolve(env.baseDir === "" ? process.cwd() : env.baseDir, chosen);
}
