/**
 * `signet-server`'s entry: the spire-server command table run through the
 * shared dispatcher (host-common's dispatch, SPIRE's mitchellh/cli rules).
 */
import { createRequire } from "node:module";
import { type CliEnv, type Command, dispatch } from "@signet/host-common";
import { commandsFor } from "./commands.js";

export async function runCli(args: readonly string[], env: CliEnv, table: readonly Command[] = commandsFor(env.vars)): Promise<number> {
  return dispatch({ name: "signet-server", version: version(), commands: table }, args, env);
}

function version(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require("../../package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}
