import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, credentials, Server, ServerCredentials } from "@grpc/grpc-js";
import { type AsyncService, type CallContext, implement, type ServiceDefinition } from "@signet/proto";
import { type Caller, withCaller } from "../../host/server/src/api/rpccontext/caller.js";

/** One service to host: its definition and its handlers (before `implement()`). */
export interface HostedService {
  readonly definition: ServiceDefinition;
  readonly impl: object;
}

/** A type-checked HostedService. */
export function hosted<S extends ServiceDefinition>(definition: S, impl: Partial<AsyncService<S>>): HostedService {
  return { definition, impl };
}

export interface TestApiServer {
  /** A channel to the server, for `createClient(definition, channel)`. */
  readonly channel: Channel;
  readonly socket: string;
  /** The caller every call is attributed to; assign to change it between calls. */
  caller: Caller;
  close(): Promise<void>;
}

/**
 * Serves server API handlers on a temporary Unix socket through a real
 * grpc-js server, attaching `caller` to every call as the endpoints
 * middleware does in the real server (so handlers read it with `callerOf`).
 */
export async function startApiServer(services: readonly HostedService[], caller: Caller): Promise<TestApiServer> {
  const dir = mkdtempSync(join(tmpdir(), "signet-api-"));
  const socket = join(dir, "api.sock");
  const server = new Server();
  const state = { caller };
  for (const { definition, impl } of services) {
    const wrapped: Record<string, unknown> = {};
    for (const [name, handler] of Object.entries(impl)) {
      if (typeof handler !== "function") continue;
      wrapped[name] = (request: unknown, ctx: CallContext) =>
        (handler as (r: unknown, c: CallContext) => unknown).call(impl, request, withCaller(ctx, state.caller));
    }
    const registration = implement(definition, wrapped as Partial<AsyncService<ServiceDefinition>>);
    server.addService(registration.definition, registration.implementation);
  }
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const channel = new Channel(`unix:${socket}`, credentials.createInsecure(), {});
  return {
    channel,
    socket,
    get caller() {
      return state.caller;
    },
    set caller(c: Caller) {
      state.caller = c;
    },
    async close() {
      channel.close();
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
