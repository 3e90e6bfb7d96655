/**
 * Wraps every handler of a service registration so that, before the
 * handler runs, the caller is established and authorized and the rate limit
 * applied, and the Caller is attached to the call's context (`callerOf(ctx)`
 * in handlers). API services stay unaware of the transport.
 */
import { Code, type CallContext, implement, RpcError, type ServiceDefinition, type ServiceRegistration } from "@signet/proto";
import { type Caller, withCaller } from "../api/rpccontext/caller.js";
import type { Authorizer } from "./authorize.js";
import type { MethodLimit } from "./rate-limit.js";
import type { ConnectionRegistry } from "./tls-listener.js";

export type Transport = "tcp" | "uds";

export interface MiddlewareDeps {
  readonly authorizer: Authorizer;
  /** The TCP connections (needed for "tcp"). */
  readonly connections?: ConnectionRegistry;
  readonly limits: ReadonlyMap<string, MethodLimit>;
  /** Milliseconds clock for rate limits. */
  readonly nowMs?: () => number;
  /** Waits before a rate-limited call goes ahead; resolves early if the call is cancelled. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/** The registration with every method (implemented or not) behind authorization and rate limits. */
export function secureRegistration(registration: ServiceRegistration, transport: Transport, deps: MiddlewareDeps): ServiceRegistration {
  const impl = registration.asyncImplementation;
  if (!impl) throw new Error(`service ${registration.name} was not built with implement(); its handlers cannot be wrapped`);
  const wrapped: Record<string, AnyHandler> = {};
  for (const [key, method] of Object.entries(registration.definition as ServiceDefinition)) {
    const original = impl[key] as AnyHandler | undefined;
    const inner: AnyHandler = original
      ? (input, ctx) => original.call(impl, input, ctx)
      : () => {
          throw new RpcError(Code.UNIMPLEMENTED, `method ${method.path.slice(method.path.lastIndexOf("/") + 1)} not implemented`);
        };
    const admit = async (request: unknown, ctx: CallContext) => {
      const caller = await establishCaller(method.path, ctx, transport, deps);
      withCaller(ctx, caller);
      await rateLimit(method.path, request, caller, ctx, deps);
    };
    if (!method.responseStream) {
      wrapped[key] = async (input, ctx) => {
        await admit(method.requestStream ? undefined : input, ctx);
        return inner(input, ctx);
      };
    } else {
      wrapped[key] = (input, ctx) =>
        (async function* () {
          await admit(method.requestStream ? undefined : input, ctx);
          yield* inner(input, ctx) as AsyncIterable<unknown>;
        })();
    }
  }
  return implement(registration.definition, wrapped as never);
}

async function establishCaller(fullMethod: string, ctx: CallContext, transport: Transport, deps: MiddlewareDeps): Promise<Caller> {
  if (transport === "uds") return deps.authorizer.authorizeLocal(fullMethod, "unix:local");
  const conn = deps.connections?.connectionOf(ctx.metadata);
  if (!conn) throw new RpcError(Code.INTERNAL, "no peer information available");
  return deps.authorizer.authorizeTcp(fullMethod, conn);
}

/** SPIRE limits TCP callers per source IP; local callers are never limited. */
async function rateLimit(fullMethod: string, request: unknown, caller: Caller, ctx: CallContext, deps: MiddlewareDeps): Promise<void> {
  const limit = deps.limits.get(fullMethod);
  if (!limit || caller.local) return;
  const cost = limit.cost(request);
  if (cost <= 0) return;
  const ip = caller.address.slice(0, caller.address.lastIndexOf(":"));
  let waitMs: number;
  try {
    waitMs = limit.limiter.reserve(ip, cost, (deps.nowMs ?? Date.now)());
  } catch (err) {
    if (err instanceof RpcError) throw new RpcError(err.code, `${limit.message}: ${err.message}`);
    throw err;
  }
  if (waitMs > 0) {
    await (deps.sleep ?? sleep)(waitMs, ctx.signal);
    if (ctx.signal.aborted) throw new RpcError(Code.CANCELLED, `${limit.message}: context canceled`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
