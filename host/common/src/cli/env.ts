/**
 * What a command may touch of the outside world, passed in so tests run
 * commands in-process with captured output (SPIRE's common_cli.Env).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

export interface CliEnv {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads all of standard input. */
  readonly readStdin: () => Promise<Buffer>;
  readonly vars: Readonly<Record<string, string | undefined>>;
  /** Directory relative file paths resolve against ("" = process cwd). */
  readonly baseDir: string;
}

export function processEnv(): CliEnv {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    vars: process.env,
    baseDir: "",
  };
}

/** A file path as the command should open it. */
export function resolvePath(env: CliEnv, p: string): string {
  return env.baseDir === "" || path.isAbsolute(p) ? p : path.join(env.baseDir, p);
}

/** `path` or, when it is "-" (or empty and `emptyMeansStdin`), standard input. */
export async function readInput(env: CliEnv, p: string, emptyMeansStdin = false): Promise<Buffer> {
  if (p === "-" || (emptyMeansStdin && p === "")) return env.readStdin();
  return readFile(resolvePath(env, p));
}
