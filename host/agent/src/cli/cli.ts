/**
 * `signet-agent`'s entry: the spire-agent command table run through the
 * shared dispatcher (host-common's dispatch, SPIRE's mitchellh/cli rules).
 */
import { createRequire } from "node:module";
import { type CliEnv, type Command, dispatch } from "@signet/host-common";
import { commands } from "./commands.js";

export async function runAgentCli(args: readonly string[], env: CliEnv, table: readonly Command[] = commands): Promise<number> {
  return dispatch({ name: "signet-agent", version: version(), commands: table }, args, env);
}

function version(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require("../../package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}
