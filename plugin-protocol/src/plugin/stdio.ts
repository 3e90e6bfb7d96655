import { type ServiceRegistration, implement } from "@signet/proto";
import { GRPCStdioService, type StdioData, StdioData_Channel } from "@signet/proto/plugin/grpc_stdio";

/** Output kept while no host is streaming it; older bytes are dropped beyond this. */
const maxBufferedBytes = 1 << 20;

/**
 * go-plugin relays what a plugin prints after the handshake line over
 * GRPCStdio/StreamStdio. We capture process.stdout writes (stdout must carry
 * nothing but the handshake) and hand them to whichever host call is open.
 * Logs keep going to the real stderr, as SPIRE's SDK does.
 */
export class StdioRelay {
  private queue: StdioData[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  readonly registration: ServiceRegistration = implement(GRPCStdioService, {
    streamStdio: (_req, ctx) => this.stream(ctx.signal),
  });

  push(channel: StdioData_Channel, data: Buffer): void {
    this.queue.push({ channel, data });
    this.queuedBytes += data.length;
    while (this.queuedBytes > maxBufferedBytes && this.queue.length > 1) {
      const dropped = this.queue.shift();
      this.queuedBytes -= dropped?.data.length ?? 0;
    }
    this.wake?.();
  }

  /** Ends any open StdioStream call (the plugin is stopping). */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** Routes process.stdout into the relay from now on. */
  captureStdout(): void {
    const relay = this;
    process.stdout.write = function write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
      const data = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : Buffer.from(chunk as Uint8Array);
      relay.push(StdioData_Channel.STDOUT, data);
      const callback = typeof encoding === "function" ? encoding : cb;
      if (typeof callback === "function") queueMicrotask(() => (callback as () => void)());
      return true;
    } as typeof process.stdout.write;
  }

  private async *stream(signal: AbortSignal): AsyncIterable<StdioData> {
    while (!signal.aborted && !this.closed) {
      const next = this.queue.shift();
      if (next) {
        this.queuedBytes -= next.data.length;
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      this.wake = undefined;
    }
  }
}
