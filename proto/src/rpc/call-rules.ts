/**
 * Call rules both of this package's gRPC stacks follow (the grpc-js adapters
 * in client.ts / server.ts and the node:http2 ones in h2/), kept in one
 * place so the two cannot drift apart. Internal: not part of the package face.
 */
import { Code, RpcError } from "./errors.js";

/** Node's timers take at most this many ms; a longer wait fires at once, so a deadline that far off gets no timer. */
export const maxTimerMs = 2 ** 31 - 1;

/** `CallOptions.deadline` as epoch ms (a number below 1e12 is a timeout from now), or undefined for none. */
export function deadlineAt(deadline: Date | number | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  if (deadline instanceof Date) return deadline.getTime();
  if (!Number.isFinite(deadline)) return undefined;
  return deadline < 1e12 ? Date.now() + deadline : deadline;
}

/**
 * The abort reasons of a call's signal, as statuses a handler can rethrow: the caller went away, or
 * the caller's deadline passed (Go's context errors, which SPIRE's plugins answer with). Shared
 * values: a DOMException per call costs.
 */
export const callCancelled = new RpcError(Code.CANCELLED, "context canceled");
export const callDeadlineExceeded = new RpcError(Code.DEADLINE_EXCEEDED, "context deadline exceeded");

/**
 * The server's copy of the deadline is the caller's timeout counted from when the call arrived, so
 * it falls a little after the caller's own; a caller that gives up at its deadline cancels before
 * ours passes. A cancel within this long of our deadline is therefore the deadline's doing.
 */
const deadlineSlackMs = 1_000;

/** Why a server call ended before its handler did, given the call's deadline (epoch ms; Infinity for none). */
export function endReason(deadlineMs: number): RpcError {
  return Number.isFinite(deadlineMs) && deadlineMs - Date.now() <= deadlineSlackMs ? callDeadlineExceeded : callCancelled;
}

/** The handler of a method the implementation leaves out. */
export function unimplementedMethod(path: string): () => never {
  return () => {
    throw new RpcError(Code.UNIMPLEMENTED, `method ${path} not implemented`);
  };
}
