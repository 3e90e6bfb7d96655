/**
 * The socket file's side of a Unix-socket endpoint, as SPIRE's server and
 * agent do it: parent directories created when missing (the agent's public
 * socket 0755, the server's private one 0750), a leftover socket removed
 * before binding, and the socket chmod'ed after binding (0777 for the
 * agent's public Workload API socket, 0770 for the server's local API).
 *
 * Unlike SPIRE we refuse to delete a path that is not a socket, or a socket
 * that a live server still answers on: both are configuration mistakes that
 * deleting would hide.
 */
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";

export async function prepareSocketPath(path: string, options: { dirMode?: number } = {}): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: options.dirMode ?? 0o755 });
  } catch (err) {
    throw new Error(`unable to create socket directory: ${messageOf(err)}`);
  }
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new Error(`unable to inspect socket path ${path}: ${messageOf(err)}`);
  }
  if (!stat.isSocket()) throw new Error(`socket path ${path} exists and is not a socket`);
  if (await answers(path)) throw new Error(`another server is already listening on ${path}`);
  await removeSocketFile(path);
}

export async function restrictSocket(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    throw new Error(`unable to change UDS permissions: ${messageOf(err)}`);
  }
}

export async function removeSocketFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const finish = (live: boolean) => {
      socket.destroy();
      resolve(live);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
