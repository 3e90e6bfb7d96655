/**
 * The few libc calls Node does not expose, bound with koffi on first use:
 * getsockopt for peer credentials and pidfds, poll to see whether a pidfd's
 * process has exited, syscall for pidfd_open, close for the pidfds we own.
 * Linux only; the constants are the same on x86_64 and arm64.
 */
import koffi from "koffi";

export const SOL_SOCKET = 1;
export const SO_PEERCRED = 17;
export const SO_PEERPIDFD = 77;
const SYS_pidfd_open = 434;
const POLLIN = 0x001;
/** struct pollfd for pidfdExited: a poll with a zero timeout returns before anything else runs. */
const pollfd = Buffer.alloc(8);

interface Libc {
  /** `length`: a socklen_t (uint32) in and out. */
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: Buffer): number;
  /** `fds`: one struct pollfd (int fd; short events; short revents), 8 bytes. */
  poll(fds: Buffer, count: number, timeoutMs: number): number;
  close(fd: number): number;
  syscall(nr: number, ...args: unknown[]): number | bigint;
}

let libc: Libc | undefined;
let errnoNames: Map<number, string> | undefined;

function bind(): Libc {
  if (libc) return libc;
  // The process image: resolves libc's symbols whether it is glibc or musl.
  const lib = koffi.load(null);
  libc = {
    // Buffers in and out rather than a JS array for the length: koffi passes their memory as is.
    getsockopt: lib.func("int getsockopt(int fd, int level, int name, _Inout_ uint8_t *value, _Inout_ uint8_t *length)") as Libc["getsockopt"],
    // The pollfd goes in and out as raw bytes: koffi passes a Buffer's memory as is, where a
    // struct would be converted from and back to a JS object on every call (the liveness check
    // runs on every Workload API call).
    poll: lib.func("int poll(_Inout_ uint8_t *fds, unsigned long count, int timeout)") as Libc["poll"],
    close: lib.func("int close(int fd)") as Libc["close"],
    syscall: lib.func("long syscall(long nr, ...)") as Libc["syscall"],
  };
  return libc;
}

/** A failed libc call: the call and errno's name, e.g. `getsockopt(SO_PEERCRED): EBADF`. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(`${call}: ${code}`);
    this.name = "SyscallError";
  }
}

function failure(call: string): SyscallError {
  const errno = koffi.errno();
  return new SyscallError(call, errno, errnoName(errno));
}

export function errnoName(errno: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, value] of Object.entries(koffi.os.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);
  }
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export function errnoOf(name: string): number | undefined {
  return koffi.os.errno[name];
}

// getsockopt's value and length, reused: each call is synchronous and read before the next.
const optionValue = Buffer.alloc(12);
const optionLength = Buffer.alloc(4);

function getsockopt(fd: number, name: number, size: number, what: string): number {
  optionValue.fill(0);
  optionLength.writeUInt32LE(size, 0);
  if (bind().getsockopt(fd, SOL_SOCKET, name, optionValue, optionLength) !== 0) throw failure(what);
  return optionLength.readUInt32LE(0);
}

/** struct ucred of the socket's peer, as the kernel recorded it at connect(). */
export function peerCred(fd: number): { pid: number; uid: number; gid: number } {
  const length = getsockopt(fd, SO_PEERCRED, 12, "getsockopt(SO_PEERCRED)");
  if (length !== 12) throw new SyscallError("getsockopt(SO_PEERCRED)", 0, `unexpected length ${length}`);
  return { pid: optionValue.readInt32LE(0), uid: optionValue.readUInt32LE(4), gid: optionValue.readUInt32LE(8) };
}

/** A new pidfd (close-on-exec) for the socket's peer process (Linux >= 6.5). */
export function peerPidfd(fd: number): number {
  getsockopt(fd, SO_PEERPIDFD, 4, "getsockopt(SO_PEERPIDFD)");
  return optionValue.readInt32LE(0);
}

/** pidfd_open(pid, 0): a pidfd (close-on-exec) for whichever process holds `pid` now. */
export function pidfdOpen(pid: number): number {
  const fd = Number(bind().syscall(SYS_pidfd_open, "int", pid, "unsigned int", 0));
  if (fd < 0) throw failure("pidfd_open");
  return fd;
}

/**
 * Whether the pidfd's process has exited: a pidfd polls readable once it has
 * (already as a zombie, before its PID can be reused). Any other event
 * (POLLHUP once reaped, POLLNVAL for a bad fd) counts as gone too.
 */
export function pidfdExited(pidfd: number): boolean {
  const { poll } = bind();
  // A signal arriving during the call (EINTR) says nothing about the process: ask again.
  for (let attempt = 0; ; attempt++) {
    pollfd.writeInt32LE(pidfd, 0);
    pollfd.writeInt16LE(POLLIN, 4);
    pollfd.writeInt16LE(0, 6);
    const ready = poll(pollfd, 1, 0);
    if (ready >= 0) return ready > 0 && pollfd.readInt16LE(6) !== 0;
    const err = failure("poll(pidfd)");
    if (err.errno !== koffi.os.errno.EINTR || attempt >= 100) throw err;
  }
}

export function closeFd(fd: number): void {
  bind().close(fd);
}
