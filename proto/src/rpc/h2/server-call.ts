/**
 * One gRPC call on one HTTP/2 stream, server side: it reads the request
 * messages, runs the handler, and writes the answer and the status as the gRPC
 * over HTTP/2 protocol has them. It is also the handler's CallContext, whose
 * metadata, peer and signal are built only when a handler reads them.
 *
 * The stream's listeners are module functions that find their call through a
 * symbol on the stream, so a call costs one object and no closures.
 */
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream, type ServerStreamResponseOptions } from "node:http2";
import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError, toGrpcStatus } from "../errors.js";
import { callDeadlineExceeded, endReason, maxTimerMs } from "../call-rules.js";
import type { CallContext } from "../types.js";
import { type FrameError, MessageReader, frameMessage } from "./frame.js";
import { RequestQueue } from "./request-queue.js";
import { encodeGrpcMessage } from "./status-headers.js";

/** A method as the server dispatches it. */
export interface HostedMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  /** The implementation's handler, bound to it: a promise, or an async iterable for a streaming response. */
  readonly handler: (input: unknown, ctx: CallContext) => unknown;
}

const callOf = Symbol("signet.h2.call");
type CallStream = ServerHttp2Stream & { [callOf]?: ServerCall };

const responseHeaders: OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc" };
// No `date` header: gRPC has no use for it and formatting it costs (`sendDate` is not in @types/node).
const respondOptions = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;
const trailersOnlyOptions = { endStream: true, sendDate: false } as ServerStreamResponseOptions;
const okTrailers: OutgoingHttpHeaders = { "grpc-status": "0" };

/** Request headers grpc-js keeps out of the handler's metadata; the same here. */
const transportHeaders = ["grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "accept-encoding", "te", "content-type"];

export class ServerCall implements CallContext {
  readonly method: string;
  private deadline = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private requestMetadata: Metadata | undefined;
  private reader: MessageReader | undefined;
  private request: Buffer | undefined;
  private requestCount = 0;
  private readonly queue: RequestQueue | undefined;
  private headersSent = false;
  /** The status is on its way or the stream is gone: nothing more is written. */
  private over = false;
  private requestEnded = false;
  /** Why the handler's context is done; set once, when the call ends for any reason. */
  private endReason: RpcError | undefined;
  private trailers: OutgoingHttpHeaders | undefined;
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly stream: CallStream,
    private readonly headers: IncomingHttpHeaders,
    /** @internal */
    readonly hosted: HostedMethod,
    timeoutMs: number | undefined,
    readonly connection: unknown,
    private readonly maxReceiveMessageBytes: number,
  ) {
    this.method = hosted.path;
    stream[callOf] = this;
    stream.on("close", onStreamClose);
    stream.on("wantTrailers", onWantTrailers);
    stream.on("data", onStreamData);
    stream.on("end", onStreamEnd);
    if (timeoutMs !== undefined) {
      this.deadline = Date.now() + timeoutMs;
      if (timeoutMs <= maxTimerMs) this.timer = setTimeout(onDeadline, timeoutMs, this);
    }
    if (hosted.requestStream) {
      this.queue = new RequestQueue(stream);
      this.invoke(this.queue);
    }
  }

  get metadata(): Metadata {
    if (!this.requestMetadata) {
      const md = Metadata.fromHttp2Headers(this.headers);
      for (const key of transportHeaders) md.remove(key);
      this.requestMetadata = md;
    }
    return this.requestMetadata;
  }

  /** grpc-js's form: "address:port", the address alone, or "unknown" (a Unix socket's peer has no address). */
  get peer(): string {
    const socket = this.stream.session?.socket;
    if (!socket?.remoteAddress) return "unknown";
    return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.endReason) this.controller.abort(this.endReason);
    }
    return this.controller.signal;
  }

  // ---- request side ----

  /** @internal */
  receive(chunk: Buffer): void {
    if (this.over || this.queue?.abandoned) return;
    let messages: Buffer[];
    try {
      messages = (this.reader ??= new MessageReader(this.maxReceiveMessageBytes)).push(chunk);
    } catch (e) {
      this.reject((e as FrameError).tooLarge ? Code.RESOURCE_EXHAUSTED : Code.INTERNAL, (e as Error).message);
      return;
    }
    const queue = this.queue;
    if (!queue) {
      for (const m of messages) if (this.requestCount++ === 0) this.request = m;
      if (this.requestCount > 1) this.reject(Code.INTERNAL, `more than one request message for ${this.method}, which takes one`);
      return;
    }
    for (const m of messages) {
      const value = this.decode(m);
      if (this.over) return;
      queue.push(value, m.length);
    }
  }

  /** @internal The peer half-closed. */
  requestEnd(): void {
    this.requestEnded = true;
    if (this.over) return;
    // A handler that stopped reading its requests left the rest unread on purpose: a cut-off message among them is not an error.
    if (this.reader && this.reader.partialBytes > 0 && !this.queue?.abandoned) {
      this.reject(Code.INTERNAL, `the request stream of ${this.method} ended inside a message`);
      return;
    }
    if (this.queue) {
      this.queue.end();
      return;
    }
    if (this.requestCount === 0) {
      this.reject(Code.INTERNAL, `no request message for ${this.method}, which takes one`);
      return;
    }
    const request = this.decode(this.request as Buffer);
    this.request = undefined;
    if (!this.over) this.invoke(request);
  }

  private decode(bytes: Buffer): unknown {
    try {
      return this.hosted.deserialize(bytes);
    } catch (e) {
      this.reject(Code.INTERNAL, `could not parse the request of ${this.method}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private invoke(input: unknown): void {
    if (this.hosted.responseStream) void pumpResponses(this, input);
    else void answerOnce(this, input);
  }

  // ---- response side ----

  /** @internal */
  get isOver(): boolean {
    return this.over;
  }

  /** @internal A unary or client-streaming handler's answer. */
  respond(response: unknown): void {
    if (this.over) return;
    let frame: Buffer;
    try {
      frame = frameMessage(this.hosted.serialize(response));
    } catch (e) {
      this.finish(new RpcError(Code.INTERNAL, `could not serialize the response of ${this.method}: ${(e as Error).message}`));
      return;
    }
    this.over = true;
    this.stopTimer();
    this.headersSent = true;
    try {
      this.stream.respond(responseHeaders, respondOptions);
      this.stream.end(frame);
    } catch {
      this.abandonStream();
    }
  }

  /** @internal One message of a streaming answer; false when the peer's window is full (wait for `drained`). */
  write(message: unknown): boolean {
    const frame = frameMessage(this.hosted.serialize(message));
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(responseHeaders, respondOptions);
    }
    return this.stream.write(frame);
  }

  /** @internal Resolves when the stream can take more, or the call is over. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
      this.stream.once("drain", onStreamDrain);
    });
  }

  /** @internal The handler is done: OK, or the status `error` stands for. */
  finish(error: unknown): void {
    if (this.over) return;
    if (error === undefined) {
      this.sendStatus(okTrailers);
      return;
    }
    const status = toGrpcStatus(error);
    this.sendStatus(statusTrailers(status.code, status.details, status.metadata));
  }

  /** @internal */
  wake(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }

  /** We end the call: the request was not what the method takes. */
  private reject(code: Code, message: string): void {
    if (this.over) return;
    const error = new RpcError(code, message);
    this.end(error);
    this.sendStatus(statusTrailers(code, message));
  }

  /** @internal The deadline passed: the handler's context is done and the caller hears DEADLINE_EXCEEDED. */
  expire(): void {
    this.timer = undefined;
    if (this.over) return;
    this.endReason = callDeadlineExceeded;
    this.end(callDeadlineExceeded);
    this.sendStatus(statusTrailers(Code.DEADLINE_EXCEEDED, "Deadline exceeded"));
  }

  private sendStatus(trailers: OutgoingHttpHeaders): void {
    this.over = true;
    this.stopTimer();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    try {
      if (this.headersSent) {
        this.trailers = trailers;
        stream.end();
      } else {
        // Trailers-only: the status rides on the only HEADERS frame.
        this.headersSent = true;
        stream.respond({ ...responseHeaders, ...trailers }, trailersOnlyOptions);
        this.statusSent();
      }
    } catch {
      this.abandonStream();
    }
  }

  /** @internal */
  sendTrailers(): void {
    try {
      this.stream.sendTrailers(this.trailers ?? okTrailers);
      this.statusSent();
    } catch {
      this.abandonStream();
    }
  }

  /**
   * The response is complete. What a peer still sends is read and dropped
   * until it half-closes, as grpc-js does: an RST_STREAM(NO_ERROR) right
   * after the trailers would make nghttp2 drop the trailers themselves.
   */
  private statusSent(): void {
    this.end(undefined);
    if (!this.requestEnded) this.stream.resume();
  }

  /** @internal The stream closed: if the status had not gone out, the peer cancelled (or the connection died). */
  closed(): void {
    this.over = true;
    this.stopTimer();
    this.end(undefined);
    this.wake();
  }

  /**
   * The call is over for the handler: its signal aborts (as grpc-js's 'cancelled' does once a
   * status is out) and a pending read of its requests throws `queueError`.
   */
  private end(queueError: RpcError | undefined): void {
    const reason = (this.endReason ??= this.cancelReason());
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
    this.queue?.fail(queueError ?? reason);
    this.wake();
  }

  private cancelReason(): RpcError {
    return endReason(this.deadline);
  }

  private stopTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Node refused a write (the stream died between our check and the call): reset it, never throw. */
  private abandonStream(): void {
    this.over = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

/** grpc-status, grpc-message (omitted when empty) and the error's metadata as trailers. */
function statusTrailers(code: number, details: string, metadata?: Metadata): OutgoingHttpHeaders {
  const trailers: OutgoingHttpHeaders = metadata ? (metadata.toHttp2Headers() as OutgoingHttpHeaders) : {};
  trailers["grpc-status"] = String(code);
  if (details) trailers["grpc-message"] = encodeGrpcMessage(details);
  return trailers;
}

/** A unary or client-streaming call: one answer or an error. */
async function answerOnce(call: ServerCall, input: unknown): Promise<void> {
  try {
    call.respond(await call.hosted.handler(input, call));
  } catch (e) {
    call.finish(e);
  }
}

/**
 * A streaming answer: every message written with backpressure, then the
 * status. Once the call is over (cancel, deadline) the loop breaks, which
 * returns the handler's iterator so its finally blocks run.
 */
async function pumpResponses(call: ServerCall, input: unknown): Promise<void> {
  try {
    const messages = call.hosted.handler(input, call) as AsyncIterable<unknown>;
    for await (const message of messages) {
      if (call.isOver) break;
      if (!call.write(message)) await call.drained();
      if (call.isOver) break;
    }
    call.finish(undefined);
  } catch (e) {
    call.finish(e);
  }
}

function callIn(stream: CallStream): ServerCall | undefined {
  return stream[callOf];
}

function onStreamData(this: CallStream, chunk: Buffer): void {
  callIn(this)?.receive(chunk);
}

function onStreamEnd(this: CallStream): void {
  callIn(this)?.requestEnd();
}

function onWantTrailers(this: CallStream): void {
  callIn(this)?.sendTrailers();
}

function onStreamDrain(this: CallStream): void {
  callIn(this)?.wake();
}

function onStreamClose(this: CallStream): void {
  callIn(this)?.closed();
}

function onDeadline(call: ServerCall): void {
  call.expire();
}
