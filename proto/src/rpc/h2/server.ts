/**
 * A gRPC server straight on node:http2, for plugin processes.
 *
 * A plugin answers a handful of calls from one host over a Unix socket, and
 * grpc-js's server spends more CPU per call on its own machinery (interceptor
 * and filter stacks, metadata objects, stream wrappers) than a plugin such as
 * the unix workload attestor spends on its work. Here a call is one stream
 * and one ServerCall object, speaking the gRPC over HTTP/2 protocol exactly
 * (grpc-go hosts such as SPIRE call it), with the handler semantics of the
 * grpc-js adapter in ../server.ts.
 */
import type { Socket } from "node:net";
import { createServer, type Http2Server, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream, type ServerStreamResponseOptions, constants } from "node:http2";
import { unimplementedMethod } from "../call-rules.js";
import { Code } from "../errors.js";
import type { ServiceRegistration } from "../server.js";
import type { CallContext } from "../types.js";
import { type HostedMethod, ServerCall } from "./server-call.js";
import { encodeGrpcMessage, parseTimeout } from "./status-headers.js";

/** Per-stream and per-connection receive windows, so large requests arrive without stalls. */
const streamWindowBytes = 4 << 20;
const sessionWindowBytes = 32 << 20;
/** In MB: what nghttp2 may buffer for one connection before it refuses streams; big DataStore pages need room. */
const maxSessionMemoryMb = 512;

export interface H2ServerOptions {
  /**
   * Largest request message accepted, in bytes; a bigger one fails its call
   * with ResourceExhausted as soon as its length prefix arrives, before any
   * of it is kept. Default 4 MiB, grpc-go's and grpc-js's default; a plugin,
   * whose only caller is its host, passes Infinity (go-plugin's limit is 2^31-1).
   */
  readonly maxReceiveMessageBytes?: number;
}

/** grpc-go's and grpc-js's default limit on a received message. */
export const defaultMaxReceiveMessageBytes = 4 * 1024 * 1024;

export class H2Server {
  private readonly methods = new Map<string, HostedMethod>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly server: Http2Server;
  /** What injectConnection was told about each session's connection. */
  private readonly connections = new WeakMap<ServerHttp2Session, unknown>();
  private injecting: { readonly connection: unknown } | undefined;
  private readonly maxReceiveMessageBytes: number;

  /** Hosts `registrations`; each must carry the async implementation `implement()` was given. */
  constructor(registrations: readonly ServiceRegistration[], options: H2ServerOptions = {}) {
    this.maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes;
    for (const r of registrations) this.host(r);
    this.server = createServer({
      settings: { initialWindowSize: streamWindowBytes, enablePush: false },
      maxSessionMemory: maxSessionMemoryMb,
    });
    this.server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.dispatch(stream, headers));
    this.server.on("session", (session: ServerHttp2Session) => this.track(session));
    // A peer that is not speaking HTTP/2, or breaks it, costs its own connection only.
    this.server.on("sessionError", ignore);
  }

  /** Listens on a Unix socket at `path`. */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once("error", onError);
      this.server.listen(path, () => {
        this.server.off("error", onError);
        this.server.on("error", ignore);
        resolve();
      });
    });
  }

  /**
   * Serves a connection accepted elsewhere (a listener that first reads who
   * connected). Its calls' `CallContext.connection` is `connection`.
   */
  injectConnection(socket: Socket, connection?: unknown): void {
    // Node's HTTP/2 server makes the session, and emits 'session', within this emit.
    this.injecting = { connection };
    try {
      this.server.emit("connection", socket);
    } finally {
      this.injecting = undefined;
    }
  }

  /** Stops accepting connections and calls; `done` runs once the calls in flight have finished. */
  tryShutdown(done: () => void): void {
    // A server only handed connections (injectConnection) never listened: done is when its sessions are.
    const listening = this.server.listening;
    if (listening) this.server.close(() => done());
    for (const session of this.sessions) if (!session.closed) session.close();
    if (!listening) void this.whenSessionsClosed().then(done);
  }

  /** Ends every connection and call now. */
  forceShutdown(): void {
    if (this.server.listening) this.server.close();
    for (const session of this.sessions) session.destroy(new Error("server shutting down"), constants.NGHTTP2_CANCEL);
    this.sessions.clear();
  }

  private host(registration: ServiceRegistration): void {
    const impl = registration.asyncImplementation;
    if (!impl) throw new Error(`service ${registration.name} has no async implementation (build it with implement())`);
    if (this.services.has(registration.name)) throw new Error(`service ${registration.name} is registered twice`);
    this.services.add(registration.name);
    for (const [key, method] of Object.entries(registration.definition)) {
      const fn = impl[key] as ((input: unknown, ctx: CallContext) => unknown) | undefined;
      this.methods.set(method.path, {
        path: method.path,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        deserialize: method.requestDeserialize,
        serialize: method.responseSerialize,
        handler: typeof fn === "function" ? fn.bind(impl) : unimplementedMethod(method.path),
      });
    }
  }

  private async whenSessionsClosed(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => (s.closed || s.destroyed ? undefined : new Promise((r) => s.once("close", r)))));
  }

  private track(session: ServerHttp2Session): void {
    if (this.injecting) this.connections.set(session, this.injecting.connection);
    this.sessions.add(session);
    session.on("error", ignore);
    session.once("close", () => this.sessions.delete(session));
    session.setLocalWindowSize(sessionWindowBytes);
  }

  private dispatch(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", ignore);
    if (headers[":method"] !== "POST") {
      refuse(stream, 405, Code.INTERNAL, `method ${headers[":method"]} is not POST, which gRPC uses`);
      return;
    }
    const contentType = headers["content-type"];
    if (!isGrpcContentType(contentType)) {
      refuse(stream, 415, Code.INTERNAL, `invalid gRPC request content-type "${contentType ?? ""}"`);
      return;
    }
    const path = headers[":path"] ?? "";
    const method = this.methods.get(path);
    if (!method) {
      refuse(stream, 200, Code.UNIMPLEMENTED, unknownMethodMessage(path, this.services));
      return;
    }
    const rawTimeout = headers["grpc-timeout"];
    let timeoutMs: number | undefined;
    if (rawTimeout !== undefined) {
      timeoutMs = parseTimeout(rawTimeout as string);
      if (timeoutMs === undefined) {
        refuse(stream, 200, Code.INTERNAL, `invalid grpc-timeout value "${rawTimeout}"`);
        return;
      }
    }
    new ServerCall(stream, headers, method, timeoutMs, this.connections.get(stream.session as ServerHttp2Session), this.maxReceiveMessageBytes);
  }
}

/** grpc-go's texts, which SPIRE's tooling and logs already show. */
function unknownMethodMessage(path: string, services: ReadonlySet<string>): string {
  const slash = path.lastIndexOf("/");
  const service = path.slice(1, Math.max(slash, 1));
  return services.has(service) ? `unknown method ${path.slice(slash + 1)} for service ${service}` : `unknown service ${service}`;
}

/** "application/grpc", optionally followed by "+proto" (or another codec) or parameters. */
function isGrpcContentType(value: string | undefined): boolean {
  if (value === undefined || !value.startsWith("application/grpc")) return false;
  const next = value.charAt("application/grpc".length);
  return next === "" || next === "+" || next === ";";
}

const refuseOptions = { endStream: true, sendDate: false } as ServerStreamResponseOptions;

/** Answers a stream with a status and no call: one HEADERS frame that ends our side. */
function refuse(stream: ServerHttp2Stream, httpStatus: number, code: Code, message: string): void {
  const headers: OutgoingHttpHeaders = {
    ":status": httpStatus,
    "content-type": "application/grpc",
    "grpc-status": String(code),
    "grpc-message": encodeGrpcMessage(message),
  };
  try {
    stream.respond(headers, refuseOptions);
    // What the peer still sends is dropped until it half-closes (see ServerCall.statusSent).
    stream.resume();
  } catch {
    if (!stream.destroyed) stream.destroy();
  }
}

function ignore(): void {}
