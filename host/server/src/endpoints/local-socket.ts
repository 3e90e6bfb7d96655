/**
 * The local API socket's file system side (SPIRE's prepareLocalAddr,
 * restrictLocalAddr): directory created 0750, a stale socket file removed —
 * unless a live server still answers on it — and the socket chmod 0770.
 */
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";

export async function prepareLocalSocket(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new Error(`unable to create socket directory: ${messageOf(err)}`);
  }
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!stat.isSocket()) throw new Error(`socket path ${path} exists and is not a socket`);
  if (await answers(path)) throw new Error(`another server is already listening on ${path}`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

export async function restrictLocalSocket(path: string): Promise<void> {
  await chmod(path, 0o770);
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
