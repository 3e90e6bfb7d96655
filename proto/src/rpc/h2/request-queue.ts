/**
 * The request messages of a client-streaming or bidi call, as the async
 * iterable its handler reads. Messages are decoded as they arrive and wait
 * here until read; past a limit the HTTP/2 stream is paused, so flow control
 * holds the peer back instead of our memory filling up.
 */
import type { ServerHttp2Stream } from "node:http2";

/** Unread messages (or their bytes) at which the stream is paused. */
const highWaterMessages = 32;
const highWaterBytes = 16 << 20;

export class RequestQueue implements AsyncIterableIterator<unknown> {
  private readonly items: unknown[] = [];
  private readonly sizes: number[] = [];
  private queuedBytes = 0;
  private paused = false;
  private ended = false;
  private failure: Error | undefined;
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: Error) => void } | undefined;
  /** The handler stopped reading (its loop broke or returned); later messages are dropped. */
  abandoned = false;

  constructor(private readonly stream: ServerHttp2Stream) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  push(message: unknown, bytes: number): void {
    if (this.abandoned || this.ended) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ done: false, value: message });
      return;
    }
    this.items.push(message);
    this.sizes.push(bytes);
    this.queuedBytes += bytes;
    if (!this.paused && (this.items.length >= highWaterMessages || this.queuedBytes >= highWaterBytes)) {
      this.paused = true;
      this.stream.pause();
    }
  }

  /** The peer half-closed: once the queue is read out, iteration ends. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** The call is over (cancelled, deadline, bad input): the next read throws `error`. */
  fail(error: Error): void {
    if (this.failure || this.abandoned) return;
    this.ended = true;
    this.failure = error;
    this.items.length = 0;
    this.sizes.length = 0;
    this.queuedBytes = 0;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.items.length > 0) {
      const value = this.items.shift();
      this.queuedBytes -= this.sizes.shift() ?? 0;
      if (this.paused && this.items.length < highWaterMessages / 2 && this.queuedBytes < highWaterBytes / 2) {
        this.paused = false;
        this.stream.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || this.abandoned) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * The handler is done reading. Unlike a Node stream's iterator this does not
   * touch the call: the response may still be going out. What the peer still
   * sends is read and dropped so it is not stalled by flow control.
   */
  return(): Promise<IteratorResult<unknown>> {
    this.abandoned = true;
    this.items.length = 0;
    this.sizes.length = 0;
    this.queuedBytes = 0;
    if (this.paused) {
      this.paused = false;
      this.stream.resume();
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ done: true, value: undefined });
    return Promise.resolve({ done: true, value: undefined });
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter || this.items.length > 0) return;
    this.waiter = undefined;
    if (this.failure) waiter.reject(this.failure);
    else waiter.resolve({ done: true, value: undefined });
  }
}
