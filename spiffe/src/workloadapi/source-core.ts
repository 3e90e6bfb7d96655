/**
 * What X509Source and JwtSource share: a watch owned by the source, a wait for the first good
 * update, subscribers told of each later one, and a close that stops the watch.
 */
import type { BackoffOptions } from "./backoff.js";
import { type Watcher, WorkloadApiClient } from "./client.js";

export interface SourceOptions {
  /** A client to share; the source then leaves it open on close(). */
  readonly client?: WorkloadApiClient;
  /** Address for a client of the source's own (default SPIFFE_ENDPOINT_SOCKET). */
  readonly address?: string;
  readonly backoff?: BackoffOptions;
  /** Aborts the wait for the first update (create() then rejects). */
  readonly signal?: AbortSignal;
  /** Hears watch failures (unparsable messages, ended streams); state is kept meanwhile. */
  readonly onError?: (error: Error) => void;
}

export class SourceClosedError extends Error {
  override readonly name = "SourceClosedError";
}

/** Runs one watch for a source and remembers its latest value. */
export class SourceCore<T> {
  private value: T | undefined;
  private closed = false;
  private readonly listeners = new Set<(value: T) => void>();
  private readonly stop = new AbortController();
  /** The client the watch runs on (the source's own or the one it was given). */
  readonly client: WorkloadApiClient;
  private readonly ownsClient: boolean;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly options: SourceOptions,
  ) {
    this.client = options.client ?? WorkloadApiClient.connect({ ...(options.address !== undefined ? { address: options.address } : {}), ...(options.backoff ? { backoff: options.backoff } : {}) });
    this.ownsClient = options.client === undefined;
  }

  /** Starts `watch` and resolves once the first value arrives; rejects if the watch stops first or `signal` aborts. */
  async start(watch: (client: WorkloadApiClient, watcher: Watcher<T>, signal: AbortSignal) => Promise<void>): Promise<void> {
    let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const first = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const watcher: Watcher<T> = {
      onUpdate: (value) => {
        this.value = value;
        settle?.resolve();
        for (const listener of this.listeners) {
          try {
            listener(value);
          } catch (err) {
            this.options.onError?.(err as Error);
          }
        }
      },
      onError: (err) => this.options.onError?.(err),
    };
    this.done = watch(this.client, watcher, this.stop.signal).then(
      () => settle?.reject(new SourceClosedError(`${this.name}: source is closed`)),
      (err: Error) => settle?.reject(err),
    );
    const abort = () => settle?.reject(new SourceClosedError(`${this.name}: waiting for the first update was aborted`));
    const signal = this.options.signal;
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      await first;
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      signal?.removeEventListener("abort", abort);
      settle = undefined;
    }
  }

  /** The latest value; throws SourceClosedError after close(). */
  current(): T {
    if (this.closed) throw new SourceClosedError(`${this.name}: source is closed`);
    return this.value as T;
  }

  /** Calls `listener` with every update after this one; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.stop.abort();
    await this.done;
    if (this.ownsClient) this.client.close();
  }
}
