/**
 * The adapter every API command goes through (SPIRE's util.Adapter): flag
 * parsing, `-socketPath`/`-instance`, one connection, "Error: <msg>" and
 * exit 1 on failure.
 */
import { type CliEnv, CliError, type Command, errorText, FlagSet, outputFlag, parseFlags, Printer } from "@signet/host-common";
import { connectServer, defaultSocketPath, type ServerClient } from "./client.js";

export interface ApiContext {
  readonly env: CliEnv;
  readonly client: ServerClient;
  readonly printer: Printer;
}

export type Action = (ctx: ApiContext) => Promise<void>;

export interface ApiCommandSpec {
  readonly name: string;
  /** Name shown in "Usage of <name>:" when SPIRE's differs from the path (token generate says "generate"). */
  readonly flagSetName?: string;
  readonly synopsis: string;
  /** Defines flags and returns the action that reads them. */
  readonly define: (fs: FlagSet) => Action;
  /** False for the few commands without `-output` (healthcheck). */
  readonly output?: boolean;
}

export function apiCommand(spec: ApiCommandSpec): Command {
  const build = () => {
    const fs = new FlagSet(spec.flagSetName ?? spec.name);
    const socketPath = fs.string("socketPath", defaultSocketPath, "Path to the SPIRE Server API socket");
    const instance = fs.string(
      "instance",
      "",
      "Instance name to substitute into socket templates (env SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE).",
    );
    const action = spec.define(fs);
    const output = spec.output === false ? undefined : outputFlag(fs);
    return { fs, socketPath, instance, action, output };
  };
  return {
    name: spec.name,
    synopsis: spec.synopsis,
    help: () => `${build().fs.usage()}flag: help requested\n`,
    async run(args, env) {
      const { fs, socketPath, instance, action, output } = build();
      const parsed = parseFlags(fs, args, env);
      if (parsed !== 0) return parsed;
      let path: string;
      try {
        path = resolveSocketPath(socketPath.value, instance.value, env.vars);
      } catch (e) {
        env.stderr(`Error: ${errorText(e)}\n`);
        return 1;
      }
      const client = connectServer(path);
      try {
        await action({ env, client, printer: new Printer(env, () => output?.value ?? "pretty") });
        return 0;
      } catch (e) {
        env.stderr(`Error: ${errorText(e)}\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}


/** SPIRE's getGRPCAddr on POSIX: explicit flag, then -instance template, then the env var. */
export function resolveSocketPath(flag: string, instance: string, vars: Readonly<Record<string, string | undefined>>): string {
  const tpl = vars.SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE ?? "";
  const sock = vars.SPIRE_SERVER_PRIVATE_SOCKET ?? "";
  if (instance !== "") {
    if (tpl === "") throw new CliError("you must define SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE to use the instance flag");
    if (!tpl.includes("%i")) throw new CliError("failed to find %i in SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE");
  }
  if (flag !== defaultSocketPath) return flag;
  if (instance !== "") return tpl.replaceAll("%i", instance);
  if (sock !== "") return sock;
  return defaultSocketPath;
}
