/**
 * The caller of a Workload API connection, from kernel facts only
 * (SPIRE's peertracker): SO_PEERCRED gives the PID, UID and GID the kernel
 * recorded when the peer connected, and a pidfd pins that very process so a
 * later check can tell whether the PID still names it (PID reuse).
 *
 * The pidfd comes from SO_PEERPIDFD when the kernel has it (6.5+): bound to
 * the process that called connect(), with no window for reuse. Older kernels
 * fall back to pidfd_open(pid) at accept plus SPIRE's checks (same start
 * time in /proc/<pid>/stat, same owner as the credentials).
 */
import type { Socket } from "node:net";
import { type SyscallError, closeFd, errnoOf, peerCred, peerPidfd, pidfdExited, pidfdOpen } from "./libc.js";
import { processOwner, processStartTime } from "./proc-stat.js";

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** How the peer process is pinned: SO_PEERPIDFD, or the pidfd_open fallback. */
export type PeerBinding = "peer-pidfd" | "pidfd-open";

export interface PeerProcess extends PeerCredentials {
  readonly binding: PeerBinding;
  /** True while the process that connected is alive and still holds `pid`. */
  stillAlive(): boolean;
  /** Why the process no longer counts as the caller, or undefined while it does. */
  exitReason(): string | undefined;
  /** Releases the pidfd; afterwards the peer never counts as alive. Idempotent. */
  close(): void;
}

/** Why a connection's caller could not be identified; the connection must be dropped. */
export class PeerCredentialsError extends Error {
  constructor(
    message: string,
    /** errno name when a system call failed, e.g. "EBADF". */
    readonly errno?: string,
  ) {
    super(message);
    this.name = "PeerCredentialsError";
  }
}

export interface ReadPeerOptions {
  /** Use SO_PEERPIDFD (default true); false forces the pidfd_open fallback (tests). */
  readonly peerPidfd?: boolean;
}

/** The peer of an accepted Unix-socket connection. Throws PeerCredentialsError. */
export function readPeer(socket: Socket, options: ReadPeerOptions = {}): PeerProcess {
  const fd = socketFd(socket);
  const creds = call(() => peerCred(fd), "could not read peer credentials");
  // A zero PID: the peer is in another PID namespace or not a process at all.
  if (creds.pid <= 0) throw new PeerCredentialsError("could not resolve caller information");
  if (options.peerPidfd !== false) {
    const pidfd = peerPidfdOrUnsupported(fd);
    if (pidfd !== undefined) return new PidfdPeer(creds, pidfd, "peer-pidfd", undefined);
  }
  return openFallback(creds);
}

function openFallback(creds: PeerCredentials): PeerProcess {
  const pidfd = call(() => pidfdOpen(creds.pid), "could not open caller's pidfd");
  let startTime: string;
  try {
    startTime = processStartTime(creds.pid);
  } catch (err) {
    closeFd(pidfd);
    throw new PeerCredentialsError(err instanceof Error ? err.message : String(err));
  }
  return new PidfdPeer(creds, pidfd, "pidfd-open", startTime);
}

class PidfdPeer implements PeerProcess {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  private pidfd: number;

  constructor(
    creds: PeerCredentials,
    pidfd: number,
    readonly binding: PeerBinding,
    /** Only for the pidfd_open fallback, where the pidfd may already name a newer process. */
    private readonly startTime: string | undefined,
  ) {
    this.pid = creds.pid;
    this.uid = creds.uid;
    this.gid = creds.gid;
    this.pidfd = pidfd;
  }

  stillAlive(): boolean {
    return this.exitReason() === undefined;
  }

  exitReason(): string | undefined {
    if (this.pidfd < 0) return "caller is no longer being watched";
    try {
      if (pidfdExited(this.pidfd)) return "caller exit detected: process has exited";
    } catch (err) {
      return `caller exit suspected: ${(err as Error).message}`;
    }
    if (this.startTime === undefined) return undefined;
    return this.procMismatch(this.startTime);
  }

  close(): void {
    if (this.pidfd < 0) return;
    const fd = this.pidfd;
    this.pidfd = -1;
    closeFd(fd);
  }

  private procMismatch(startTime: string): string | undefined {
    let current: string;
    let owner: { uid: number; gid: number };
    try {
      current = processStartTime(this.pid);
      owner = processOwner(this.pid);
    } catch (err) {
      return `caller exit suspected: ${(err as Error).message}`;
    }
    if (current !== startTime) return `new process detected: process starttime ${current} does not match original caller ${startTime}`;
    if (owner.uid !== this.uid) return `new process detected: process uid ${owner.uid} does not match original caller ${this.uid}`;
    if (owner.gid !== this.gid) return `new process detected: process gid ${owner.gid} does not match original caller ${this.gid}`;
    return undefined;
  }
}

function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new PeerCredentialsError("invalid connection: no file descriptor");
  return fd;
}

/** undefined when the kernel has no SO_PEERPIDFD (ENOPROTOOPT); any other failure is an error. */
function peerPidfdOrUnsupported(fd: number): number | undefined {
  try {
    return peerPidfd(fd);
  } catch (err) {
    if ((err as SyscallError).errno === errnoOf("ENOPROTOOPT")) return undefined;
    throw asPeerError(err, "could not pin caller process");
  }
}

function call<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw asPeerError(err, what);
  }
}

function asPeerError(err: unknown, what: string): PeerCredentialsError {
  const e = err as Partial<SyscallError>;
  return new PeerCredentialsError(`${what}: ${e.message ?? String(err)}`, e.code);
}
