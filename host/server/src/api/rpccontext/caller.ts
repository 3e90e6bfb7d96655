import type { X509Certificate } from "node:crypto";
import type { CallContext } from "@signet/proto";
import type { SpiffeId } from "@signet/spiffe";

/**
 * Who is calling a server API, as established by the endpoint that accepted
 * the connection (SPIRE's rpccontext caller information). Built once per call
 * by the authorization middleware in `endpoints/`, read by API handlers with
 * `callerOf(ctx)`.
 */
export interface Caller {
  /** The call arrived on the local (admin) Unix socket: SPIRE's "local" class. */
  readonly local: boolean;
  /** Peer address as grpc-js reports it (for logs and rate limits). */
  readonly address: string;
  /** Set when a TCP caller presented a client certificate that verified against the bundle. */
  readonly x509Svid?: CallerSvid;
  /** Set when the caller passed the "agent" check (SVID serial matches the attested node). */
  readonly agentId?: SpiffeId;
  /** The caller's SVID ID passed the "admin" check. */
  readonly admin: boolean;
  /** The caller's SVID ID passed the "downstream" check. */
  readonly downstream: boolean;
}

export interface CallerSvid {
  readonly id: SpiffeId;
  /** Leaf first, then any intermediates the peer sent. */
  readonly chain: readonly X509Certificate[];
  /** Leaf serial number as a decimal string (how SPIRE stores agent serials). */
  readonly serial: string;
  readonly notAfter: Date;
}

const callers = new WeakMap<CallContext, Caller>();

/** Attaches the caller to a call context (endpoints middleware, and tests). */
export function withCaller<C extends CallContext>(ctx: C, caller: Caller): C {
  callers.set(ctx, caller);
  return ctx;
}

/** The caller of this call; throws if the middleware did not run (a wiring bug, never a client error). */
export function callerOf(ctx: CallContext): Caller {
  const caller = callers.get(ctx);
  if (!caller) throw new Error(`no caller attached to call ${ctx.method}`);
  return caller;
}

/** A local (admin socket) caller, for tests and in-process use. */
export function localCaller(address = "unix:local"): Caller {
  return { local: true, address, admin: false, downstream: false };
}
