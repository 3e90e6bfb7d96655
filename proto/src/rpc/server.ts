import { once } from "node:events";
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { endReason, unimplementedMethod } from "./call-rules.js";
import { type RpcError, toGrpcStatus } from "./errors.js";
import type { AsyncService, CallContext, ServiceDefinition } from "./types.js";

/** The three things a grpc-js server needs to host one service. */
export interface ServiceRegistration {
  /** Full gRPC service name, e.g. "spire.plugin.server.keymanager.v1.KeyManager". */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /**
   * The promise/async-iterator handlers `implement()` was given, by method
   * key, so a middleware (server endpoints: authorization, rate limits) can
   * wrap them and call `implement()` again. Absent on hand-built registrations.
   */
  readonly asyncImplementation?: Readonly<Record<string, unknown>>;
}

/** Full service name from a definition: the path of any method minus "/Method". */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) throw new Error("service definition has no methods");
  return first.path.slice(1, first.path.lastIndexOf("/"));
}

/**
 * Adapts a service written with promises and async iterators to grpc-js
 * callbacks. Thrown RpcErrors keep their code; anything else becomes Internal.
 * Methods missing from `impl` answer Unimplemented.
 */
export function implement<S extends ServiceDefinition>(
  definition: S,
  impl: Partial<AsyncService<S>>,
): ServiceRegistration {
  const name = serviceNameOf(definition);
  const handlers: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const fn = (impl as Record<string, unknown>)[key] as ((...args: unknown[]) => unknown) | undefined;
    const handler = fn ? (fn.bind(impl) as (...args: unknown[]) => unknown) : unimplementedMethod(method.path);
    if (!method.requestStream && !method.responseStream) handlers[key] = unary(method.path, handler);
    else if (!method.requestStream) handlers[key] = serverStreaming(method.path, handler);
    else if (!method.responseStream) handlers[key] = clientStreaming(method.path, handler);
    else handlers[key] = bidiStreaming(method.path, handler);
  }
  return { name, definition, implementation: handlers, asyncImplementation: impl as Readonly<Record<string, unknown>> };
}

type Call =
  | ServerUnaryCall<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

export { callCancelled, callDeadlineExceeded } from "./call-rules.js";

function abortReason(call: Call): RpcError {
  const deadline = call.getDeadline();
  return endReason(deadline instanceof Date ? deadline.getTime() : deadline);
}

/** The call's context; the abort signal and peer are built only if a handler asks (most never do). */
function contextOf(path: string, call: Call): CallContext {
  let controller: AbortController | undefined;
  return {
    method: path,
    metadata: call.metadata as Metadata,
    get peer() {
      return call.getPeer();
    },
    get signal() {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        if (call.cancelled) c.abort(abortReason(call));
        else (call as unknown as NodeJS.EventEmitter).once("cancelled", () => c.abort(abortReason(call)));
      }
      return controller.signal;
    },
  };
}

function unary(path: string, fn: (...a: unknown[]) => unknown): handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    run(() => fn(call.request, contextOf(path, call)) as Promise<unknown>).then(
      (res) => callback(null, res),
      (err) => callback(toGrpcStatus(err)),
    );
  };
}

function serverStreaming(path: string, fn: (...a: unknown[]) => unknown): handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const ctx = contextOf(path, call);
    void pump(call, () => fn(call.request, ctx) as AsyncIterable<unknown>);
  };
}

function clientStreaming(path: string, fn: (...a: unknown[]) => unknown): handleClientStreamingCall<unknown, unknown> {
  return (call, callback) => {
    run(() => fn(requestsOf(call), contextOf(path, call)) as Promise<unknown>).then(
      (res) => callback(null, res),
      (err) => callback(toGrpcStatus(err)),
    );
  };
}

function bidiStreaming(path: string, fn: (...a: unknown[]) => unknown): handleBidiStreamingCall<unknown, unknown> {
  return (call) => {
    const ctx = contextOf(path, call);
    void pump(call, () => fn(requestsOf(call), ctx) as AsyncIterable<unknown>);
  };
}

/**
 * The request side as an async iterable that does not destroy the call when
 * iteration ends (Node's default would tear down the response side too).
 */
function requestsOf(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
}

/** Writes every produced message with backpressure, then the status. */
async function pump(
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  produce: () => AsyncIterable<unknown>,
): Promise<void> {
  try {
    for await (const message of produce()) {
      if (call.cancelled) return;
      if (!call.write(message)) await once(call, "drain");
    }
    if (!call.cancelled) call.end();
  } catch (err) {
    if (!call.cancelled) call.emit("error", toGrpcStatus(err));
  }
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  return fn();
}
