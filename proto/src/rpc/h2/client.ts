/**
 * Unary gRPC calls straight over one node:http2 session.
 *
 * A host calls its plugins' unary methods on every hot path (a Workload API
 * caller's attestation, a workload key, a signature), and grpc-js spends
 * most of such a call's CPU in layers a call to a local plugin process does
 * not use: name resolution, load balancing, retries, interceptors and
 * filters. Here a call is one HTTP/2 stream: HEADERS, one length-prefixed
 * message, and the answer's status read from the trailers, exactly as the
 * gRPC over HTTP/2 protocol has it, so any gRPC server (grpc-go in a stock
 * SPIRE plugin, ours) answers it. Streaming methods stay on grpc-js.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import { Metadata } from "@grpc/grpc-js";
import { deadlineAt, maxTimerMs } from "../call-rules.js";
import { Code, RpcError } from "../errors.js";
import type { CallOptions, MethodDefinition } from "../types.js";
import { FrameError, MessageReader, frameMessage } from "./frame.js";
import { codeForHttpStatus, codeForResetStream, decodeGrpcMessage, encodeTimeout } from "./status-headers.js";

/** What `createClient` needs to send a unary method some other way than through grpc-js. */
export interface UnaryTransport {
  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res>;
}

export interface H2UnaryClientOptions {
  /** Opens the byte stream to the server (e.g. `() => net.connect(socketPath)`); called again after the connection drops. */
  readonly connect: () => Socket;
  /** Named in errors, e.g. "unix:/tmp/plugin123". */
  readonly target: string;
}

/** Per-stream and per-connection receive windows: a plugin's large answers (DataStore pages) arrive without stalls. */
const streamWindowBytes = 4 << 20;
const sessionWindowBytes = 32 << 20;

export class H2UnaryClient implements UnaryTransport {
  private session: ClientHttp2Session | undefined;
  private inFlight = 0;
  private closed = false;

  constructor(private readonly options: H2UnaryClientOptions) {}

  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.closed) {
        reject(new RpcError(Code.UNAVAILABLE, `connection to ${this.options.target} is closed`));
        return;
      }
      let body: Buffer;
      try {
        body = frameMessage(method.requestSerialize(request));
      } catch (e) {
        reject(new RpcError(Code.INTERNAL, `could not serialize the request: ${(e as Error).message}`));
        return;
      }
      const at = deadlineAt(options?.deadline);
      const timeoutMs = at === undefined ? undefined : at - Date.now();
      if (timeoutMs !== undefined && timeoutMs <= 0) {
        reject(deadlineExceeded());
        return;
      }
      if (options?.signal?.aborted) {
        reject(cancelledOnClient());
        return;
      }
      const headers: OutgoingHttpHeaders = {
        ":method": "POST",
        ":scheme": "http",
        ":authority": "localhost",
        ":path": method.path,
        "content-type": "application/grpc",
        te: "trailers",
      };
      if (timeoutMs !== undefined) headers["grpc-timeout"] = encodeTimeout(timeoutMs);
      if (options?.metadata) Object.assign(headers, options.metadata.toHttp2Headers());
      const session = this.currentSession();
      let stream: ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: false });
      } catch (e) {
        reject(new RpcError(Code.UNAVAILABLE, `cannot start a call to ${this.options.target}: ${(e as Error).message}`));
        return;
      }
      this.started();
      new UnaryCall(stream, session, method.path, method.responseDeserialize, this.options.target, timeoutMs, options?.signal, (err, res) => {
        this.finished();
        if (err) reject(err);
        else resolve(res as Res);
      });
      stream.end(body);
    });
  }

  /** Ends the connection; calls in flight fail with Unavailable, later ones at once. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private currentSession(): ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    const session = connect("http://localhost", {
      createConnection: () => this.options.connect(),
      settings: { initialWindowSize: streamWindowBytes, enablePush: false },
      // In MB: what nghttp2 may hold for this session before refusing streams.
      maxSessionMemory: 256,
    });
    // Failures reach each stream as its own 'error'; the session's only matters for the next call.
    session.on("error", () => {});
    session.once("connect", () => session.setLocalWindowSize(sessionWindowBytes));
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.once("close", forget);
    session.once("goaway", forget);
    if (this.inFlight === 0) session.unref();
    this.session = session;
    return session;
  }

  // The connection keeps the process alive only while a call waits on it, as grpc-js's does.
  private started(): void {
    if (this.inFlight++ === 0) this.session?.ref();
  }

  private finished(): void {
    if (--this.inFlight === 0) this.session?.unref();
  }
}

/** One call's stream, from the answer's HEADERS to its status. */
class UnaryCall {
  private httpStatus = 0;
  private grpcStatus: number | undefined;
  private grpcMessage = "";
  private trailers: IncomingHttpHeaders | undefined;
  private readonly reader = new MessageReader();
  private message: Buffer | undefined;
  private extraMessages = 0;
  private failure: RpcError | undefined;
  private streamError: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly session: ClientHttp2Session,
    private readonly path: string,
    private readonly deserialize: (bytes: Buffer) => unknown,
    private readonly target: string,
    timeoutMs: number | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly settle: (err: RpcError | undefined, res?: unknown) => void,
  ) {
    stream.on("response", (h) => this.onHeaders(h));
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("trailers", (t) => this.onTrailers(t));
    stream.on("error", (e) => {
      this.streamError = e;
    });
    stream.on("close", () => this.onClose());
    // Node fires a longer timer at once; a deadline that far off is as good as none here.
    if (timeoutMs !== undefined && timeoutMs <= maxTimerMs) this.timer = setTimeout(() => this.abandon(deadlineExceeded()), timeoutMs);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => this.abandon(cancelledOnClient());

  private onHeaders(h: IncomingHttpHeaders): void {
    this.httpStatus = Number(h[":status"]);
    // Trailers-only: the status came with the only HEADERS there will be.
    if (h["grpc-status"] !== undefined) this.onTrailers(h);
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    try {
      for (const m of this.reader.push(chunk)) {
        if (this.message === undefined) this.message = m;
        else this.extraMessages++;
      }
    } catch (e) {
      this.failure = new RpcError(Code.INTERNAL, `${(e as FrameError).message}`);
      this.stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
    }
  }

  private onTrailers(t: IncomingHttpHeaders): void {
    this.trailers = t;
    this.grpcStatus = Number(t["grpc-status"]);
    const message = t["grpc-message"];
    this.grpcMessage = typeof message === "string" ? decodeGrpcMessage(message) : "";
  }

  /** The deadline passed or the caller gave up: the answer no longer matters. */
  private abandon(error: RpcError): void {
    if (this.done) return;
    this.finish(error);
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  private onClose(): void {
    if (this.done) return;
    const error = this.outcome();
    if (error) this.finish(error);
    else {
      let response: unknown;
      try {
        response = this.deserialize(this.message as Buffer);
      } catch (e) {
        this.finish(new RpcError(Code.INTERNAL, `could not parse the response of ${this.path}: ${(e as Error).message}`));
        return;
      }
      this.finish(undefined, response);
    }
  }

  /** Why the call failed, or undefined when it succeeded with exactly one message. */
  private outcome(): RpcError | undefined {
    if (this.failure) return this.failure;
    const status = this.grpcStatus;
    if (status !== undefined && Number.isInteger(status)) {
      if (status !== Code.OK) return new RpcError(status, this.grpcMessage, trailerMetadata(this.trailers));
      if (this.message === undefined) return new RpcError(Code.UNIMPLEMENTED, `no response message for ${this.path}`);
      if (this.extraMessages > 0 || this.reader.partialBytes > 0) return new RpcError(Code.UNIMPLEMENTED, `more than one response message for ${this.path}`);
      return undefined;
    }
    if (this.httpStatus !== 0 && this.httpStatus !== 200) {
      return new RpcError(codeForHttpStatus(this.httpStatus), `received HTTP status ${this.httpStatus} from ${this.target}`);
    }
    // The server reset this stream (the connection itself is fine): the reset's code says what happened.
    const rst = this.stream.rstCode;
    if (!this.session.destroyed && rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) {
      return new RpcError(codeForResetStream(rst), `stream reset by ${this.target} with code ${rst}`);
    }
    if (this.session.destroyed || this.session.closed || this.httpStatus === 0) {
      const why = this.streamError ? `: ${this.streamError.message}` : "";
      return new RpcError(Code.UNAVAILABLE, `connection to ${this.target} failed${why}`);
    }
    return new RpcError(Code.INTERNAL, `${this.target} ended the call without a status`);
  }

  private finish(err: RpcError | undefined, res?: unknown): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    this.settle(err, res);
  }
}

/** The trailers an error came with, as the grpc-js Metadata RpcError carries, without the status itself. */
function trailerMetadata(trailers: IncomingHttpHeaders | undefined): Metadata | undefined {
  if (!trailers) return undefined;
  const rest: IncomingHttpHeaders = {};
  let any = false;
  for (const [key, value] of Object.entries(trailers)) {
    if (key.startsWith(":") || key === "grpc-status" || key === "grpc-message" || key === "content-type") continue;
    rest[key] = value;
    any = true;
  }
  return any ? Metadata.fromHttp2Headers(rest) : undefined;
}

// The texts grpc-js uses, which callers already recognise (see host/agent's workload client).
const deadlineExceeded = () => new RpcError(Code.DEADLINE_EXCEEDED, "Deadline exceeded");
const cancelledOnClient = () => new RpcError(Code.CANCELLED, "Cancelled on client");
