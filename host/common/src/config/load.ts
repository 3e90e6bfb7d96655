/**
 * Reading server.conf / agent.conf: the file, `-expandEnv`, then the parse.
 */
import { readFile } from "node:fs/promises";
import type { ConfigObject, ConfigSource, Environment } from "@signet/config";
import { ConfigError, expandEnv, parseConfigText } from "@signet/config";

export interface LoadConfigOptions {
  /** SPIRE's `-expandEnv`: substitute `$VAR` / `${VAR}` before parsing. */
  readonly expandEnv?: boolean;
  /** The environment for expansion (default: process.env). */
  readonly env?: Environment;
  /** For tests. */
  readonly readFile?: (path: string) => Promise<string>;
}

export interface LoadedConfig {
  readonly path: string;
  /** The text that was parsed (after expansion): pass it to decode() for line numbers. */
  readonly source: ConfigSource;
  readonly tree: ConfigObject;
}

export async function loadConfigFile(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await (options.readFile ?? ((p: string) => readFile(p, "utf8")))(path);
  } catch (error) {
    throw new ConfigError({ detail: `unable to read configuration at ${JSON.stringify(path)}: ${readFailure(error)}`, cause: error });
  }
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  if (options.expandEnv) text = expandEnv(text, options.env ?? process.env);
  const source: ConfigSource = { filename: path, text };
  const tree = await parseConfigText(text, { filename: path });
  return { path, source, tree };
}

/** Go's wording for the usual failures ("no such file or directory"), else Node's message without its code and syscall. */
function readFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const known = code === undefined ? undefined : GO_WORDING[code];
  if (known !== undefined) return known;
  const match = /^[A-Z0-9]+: (.*?)(?:, \w+(?: '.*')?)?$/.exec(error.message);
  return match ? match[1]! : error.message;
}

const GO_WORDING: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
};

/**
 * The folder relative plugin paths in a config file resolve against: the
 * file's own folder ("." for a bare name or one directly under "/", as
 * `run` and `validate` have always resolved them).
 */
export function configDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "." : path.slice(0, i);
}
