import { Client, type Channel, credentials, Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { deadlineAt } from "./call-rules.js";
import { fromGrpcError } from "./errors.js";
import type { UnaryTransport } from "./h2/client.js";
import type { AsyncClient, BidiCall, CallOptions, MethodDefinition, ServiceDefinition } from "./types.js";

/**
 * A promise/async-iterator client for `definition` over an existing channel,
 * so several services share one connection (as they do to a plugin). With
 * `unary`, unary methods go through that transport instead (a host's lean
 * path to its plugins) and only streams use the channel.
 */
export function createClient<S extends ServiceDefinition>(definition: S, channel: Channel, unary?: UnaryTransport): AsyncClient<S> {
  const client = new Client("unused", credentials.createInsecure(), { channelOverride: channel });
  const out: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    if (!method.requestStream && !method.responseStream) {
      out[key] = unary ? (request: unknown, options?: CallOptions) => unary.call(method, request, options) : unaryMethod(client, method);
    } else if (!method.requestStream) out[key] = serverStreamMethod(client, method);
    else if (!method.responseStream) out[key] = clientStreamMethod(client, method);
    else out[key] = bidiMethod(client, method);
  }
  return out as AsyncClient<S>;
}

function callOptions(options: CallOptions | undefined): { deadline?: Date | number } {
  const at = deadlineAt(options?.deadline);
  return at === undefined ? {} : { deadline: at };
}

function unaryMethod(client: Client, m: MethodDefinition<unknown, unknown>) {
  return (request: unknown, options?: CallOptions) =>
    new Promise((resolve, reject) => {
      const call = client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        options?.metadata ?? new Metadata(),
        callOptions(options),
        (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res)),
      );
      linkSignal(options?.signal, () => call.cancel());
    });
}

function serverStreamMethod(client: Client, m: MethodDefinition<unknown, unknown>) {
  return (request: unknown, options?: CallOptions) => {
    const call = client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      request,
      options?.metadata ?? new Metadata(),
      callOptions(options),
    );
    linkSignal(options?.signal, () => call.cancel());
    return translateErrors(call as AsyncIterable<unknown>, () => call.cancel());
  };
}

function clientStreamMethod(client: Client, m: MethodDefinition<unknown, unknown>) {
  return (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions) =>
    new Promise((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        options?.metadata ?? new Metadata(),
        callOptions(options),
        (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res)),
      );
      linkSignal(options?.signal, () => call.cancel());
      void (async () => {
        try {
          for await (const r of requests) call.write(r);
          call.end();
        } catch (e) {
          call.cancel();
          reject(e);
        }
      })();
    });
}

function bidiMethod(client: Client, m: MethodDefinition<unknown, unknown>) {
  return (options?: CallOptions): BidiCall<unknown, unknown> => {
    const call: ClientDuplexStream<unknown, unknown> = client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      options?.metadata ?? new Metadata(),
      callOptions(options),
    );
    linkSignal(options?.signal, () => call.cancel());
    // The caller may not be reading yet when the call fails (e.g. while it
    // prepares its first message): the stream keeps the error for the
    // iterator, and an 'error' with no listener would crash the process.
    call.on("error", () => {});
    const iterable = translateErrors(call as AsyncIterable<unknown>, () => call.cancel());
    return {
      send: (message) => {
        call.write(message);
      },
      end: () => {
        call.end();
      },
      cancel: () => call.cancel(),
      [Symbol.asyncIterator]: () => iterable[Symbol.asyncIterator](),
    };
  };
}

async function* translateErrors<T>(source: AsyncIterable<T>, cancel: () => void): AsyncGenerator<T> {
  let done = false;
  try {
    for await (const item of source) yield item;
    done = true;
  } catch (e) {
    done = true;
    throw fromGrpcError(e);
  } finally {
    // The consumer stopped early (break/return): stop the call too.
    if (!done) cancel();
  }
}

function linkSignal(signal: AbortSignal | undefined, cancel: () => void): void {
  if (!signal) return;
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
}
