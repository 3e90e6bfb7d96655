/**
 * The local API socket's file system side (SPIRE's prepareLocalAddr,
 * restrictLocalAddr): directory created 0750, a stale socket file removed —
 * unless a live server still answers on it — and the socket chmod 0770.
 */
import { prepareSocketPath, restrictSocket } from "@signet/host-common";

export async function prepareLocalSocket(path: string): Promise<void> {
  await prepareSocketPath(path, { dirMode: 0o750 });
}

export async function restrictLocalSocket(path: string): Promise<void> {
  await restrictSocket(path, 0o770);
}
