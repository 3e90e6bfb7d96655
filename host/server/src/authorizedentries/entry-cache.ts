import { Code, isRpcError } from "@signet/proto";
import { type Event, Event_Kind } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { DataStore } from "../datastore/datastore.js";
import type { AuthorizedEntries } from "./authorized-entries.js";
import type { EncodedEntry } from "./encoded-entry.js";
import { EntryIndex } from "./entry-index.js";

/** The DataStore calls the cache makes. */
export type EntryCacheDataStore = Pick<
  DataStore,
  "getLatestEventId" | "listEntries" | "listAttestedNodes" | "streamEvents" | "fetchEntries" | "getNodeSelectors"
>;

export interface EntryCacheLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface EntryCacheDeps {
  readonly dataStore: EntryCacheDataStore;
  /** Server trust domain name, e.g. "example.org". */
  readonly trustDomain: string;
  readonly logger: EntryCacheLogger;
  /** Waits between retries; replaceable so tests need not wait for real. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Retry delays after UNAVAILABLE and other transient failures. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * Runs after each full load, once the new index is in place: the server
   * passes host-common's settleMemory, which hands the load's garbage back
   * to the system (a cold start reads every entry and agent through gRPC).
   */
  readonly afterLoad?: () => void;
}

/** Page size for the start-up lists; the plugin may cap it. */
const listPageSize = 2000;
/** Events re-read together; also bounds how far the reader runs ahead of the applier. */
const maxBatch = 1000;
const maxQueued = 20 * maxBatch;
/** Deadline of the reads that apply a batch. */
const readTimeoutMs = 30_000;

/**
 * The server's entry cache: an EntryIndex loaded once from the DataStore and
 * then kept current from its change feed, never by periodic reloads. The feed
 * only names what changed; the cache re-reads those objects and applies what
 * it finds ("not found" = deleted), so replays are harmless.
 *
 * Owner of one async loop: `start()` begins it, `stop()` ends it. A cursor
 * the store no longer honours (FAILED_PRECONDITION) triggers a reload from
 * scratch, built aside and swapped in; other failures are retried from the
 * cursor with capped exponential backoff.
 */
export class EntryCache implements AuthorizedEntries {
  private index: EntryIndex;
  private cursor = 0n;
  private loaded = false;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly readyWaiter: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Full loads done so far (1 after start-up); visible for tests and metrics. */
  reloads = 0;

  constructor(private readonly deps: EntryCacheDeps) {
    this.index = new EntryIndex(deps.trustDomain);
    this.sleep = deps.sleep ?? abortableSleep;
    this.backoff = deps.backoff ?? { initialMs: 250, maxMs: 10_000 };
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    this.readyWaiter = { promise, resolve, reject };
  }

  /** Starts the loop; resolves once the first full load is in place (retrying while the store is unavailable). */
  start(): Promise<void> {
    if (!this.loop) this.loop = this.run();
    return this.readyWaiter.promise;
  }

  /** Ends the loop and waits for it; pending waits reject. */
  async stop(): Promise<void> {
    this.stopper.abort();
    const stopped = new Error("entry cache stopped");
    this.readyWaiter.reject(stopped);
    for (const w of this.waiters) w.reject(stopped);
    this.waiters.clear();
    await this.loop;
  }

  get ready(): boolean {
    return this.loaded;
  }

  /** The last change-feed event applied (or the frontier the last full load started from). */
  get eventId(): bigint {
    return this.cursor;
  }

  /** Number of entries held (node aliases included). */
  get size(): number {
    return this.index.entryCount;
  }

  /** Resolves once every change up to `eventId` is reflected in the cache. */
  waitForEventId(eventId: bigint, timeoutMs = 30_000): Promise<void> {
    if (this.loaded && this.cursor >= eventId) return Promise.resolve();
    if (this.stopper.signal.aborted) return Promise.reject(new Error("entry cache stopped"));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        eventId,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`entry cache did not reach event ${eventId} within ${timeoutMs} ms (at ${this.cursor})`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /**
   * Waits until the cache reflects every change committed before this call
   * (the store's delivery frontier at the time of the call). The feed
   * delivers committed events only, so if the frontier itself is an
   * abandoned id (a rolled-back write was the last one), this waits for the
   * next committed event or the timeout.
   */
  async catchUp(timeoutMs = 30_000): Promise<void> {
    const { eventId } = await this.deps.dataStore.getLatestEventId({});
    await this.waitForEventId(eventId, timeoutMs);
  }

  authorizedEntries(agentId: string): readonly EncodedEntry[] {
    return this.index.authorizedEntries(agentId);
  }

  authorizedEntry(agentId: string, entryId: string): Entry | undefined {
    return this.index.authorizedEntry(agentId, entryId);
  }

  isAdmin(spiffeId: string): boolean {
    return this.index.isAdmin(spiffeId);
  }

  isDownstream(spiffeId: string): boolean {
    return this.index.isDownstream(spiffeId);
  }

  // ---- the loop ---------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    let mustLoad = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (mustLoad) {
          await this.load();
          mustLoad = false;
          failures = 0;
        }
        await this.follow(() => {
          failures = 0;
        });
        if (signal.aborted) break;
        this.deps.logger.warn("entry change feed ended; resuming", { event_id: String(this.cursor) });
        await this.sleep(this.backoff.initialMs, signal).catch(() => {});
      } catch (err) {
        if (signal.aborted) break;
        if (isRpcError(err) && err.code === Code.FAILED_PRECONDITION) {
          this.deps.logger.warn("entry change feed cursor unusable; reloading the entry cache", {
            event_id: String(this.cursor),
            error: err.message,
          });
          mustLoad = true;
          continue;
        }
        const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(failures, 20));
        failures++;
        this.deps.logger.warn("entry cache cannot read the datastore; retrying", {
          error: err instanceof Error ? err.message : String(err),
          retry_in_ms: delay,
        });
        await this.sleep(delay, signal).catch(() => {});
      }
    }
  }

  /** SPIRE's start-up recipe: frontier first, then the lists, then the feed from the frontier. */
  private async load(): Promise<void> {
    const ds = this.deps.dataStore;
    // A child of the stop signal, released afterwards, so reloads leave no listeners behind.
    const local = new AbortController();
    const stopLocal = () => local.abort();
    this.stopper.signal.addEventListener("abort", stopLocal, { once: true });
    if (this.stopper.signal.aborted) local.abort();
    try {
      await this.loadWith(ds, local.signal);
    } finally {
      this.stopper.signal.removeEventListener("abort", stopLocal);
    }
  }

  private async loadWith(ds: EntryCacheDataStore, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const { eventId } = await ds.getLatestEventId({}, { signal });
    const index = new EntryIndex(this.deps.trustDomain);
    // Entries and agents stream side by side; each page is applied as it arrives.
    await Promise.all([
      (async () => {
        for await (const page of ds.listEntries(
          { filter: undefined, page: { pageSize: listPageSize, pageToken: "", maxPages: 0 } },
          { signal },
        )) {
          for (const entry of page.entries) index.putEntry(entry);
        }
      })(),
      (async () => {
        for await (const page of ds.listAttestedNodes(
          { filter: undefined, page: { pageSize: listPageSize, pageToken: "", maxPages: 0 }, fetchSelectors: true },
          { signal },
        )) {
          for (const node of page.nodes) index.setAgentSelectors(node.spiffeId, node.selectors);
        }
      })(),
    ]);
    this.index = index;
    this.cursor = eventId;
    this.loaded = true;
    this.reloads++;
    // Best effort: a failing hook must not fail a load that is already in place
    // (start() would never resolve and the loop would reload for ever).
    try {
      this.deps.afterLoad?.();
    } catch (err) {
      this.deps.logger.warn("entry cache after-load hook failed", { error: err instanceof Error ? err.message : String(err) });
    }
    this.deps.logger.info("entry cache loaded", {
      entries: index.entryCount,
      agents: index.agentCount,
      event_id: String(eventId),
      elapsed_ms: Math.round(performance.now() - started),
    });
    this.readyWaiter.resolve();
    this.wakeWaiters();
  }

  /**
   * Streams events after the cursor and applies them in batches: a reader
   * queues events as they arrive, the applier takes whatever has queued up,
   * re-reads those objects and then advances the cursor past the batch.
   */
  private async follow(onProgress: () => void): Promise<void> {
    const local = new AbortController();
    const queue: Event[] = [];
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    let drained: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    // Stopping must not depend on the stream noticing its cancellation.
    const stopLocal = () => {
      local.abort();
      notify();
    };
    this.stopper.signal.addEventListener("abort", stopLocal, { once: true });
    // An abort that happened before the listener was added never fires it.
    if (this.stopper.signal.aborted) {
      this.stopper.signal.removeEventListener("abort", stopLocal);
      return;
    }
    const reader = (async () => {
      try {
        for await (const event of this.deps.dataStore.streamEvents(
          { afterEventId: this.cursor, kinds: [] },
          { signal: local.signal },
        )) {
          queue.push(event);
          notify();
          if (queue.length >= maxQueued) await new Promise<void>((r) => (drained = r));
        }
        ended = true;
      } catch (err) {
        failure = err;
      } finally {
        notify();
      }
    })();
    try {
      for (;;) {
        if (queue.length === 0) {
          if (failure !== undefined) throw failure;
          if (ended || local.signal.aborted) return;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        const batch = queue.splice(0, maxBatch);
        const d = drained;
        drained = undefined;
        d?.();
        await this.apply(batch);
        onProgress();
      }
    } finally {
      // Cancels the stream; the reader ends on its own once the call does,
      // and is not awaited (a call that never reports its cancellation must
      // not hold up a reload or stop()).
      local.abort();
      drained?.();
      this.stopper.signal.removeEventListener("abort", stopLocal);
      void reader;
    }
  }

  /**
   * Re-reads what a batch of events names and applies it. The reads carry a
   * deadline rather than the loop's abort signal: an abort listener per call
   * would pile up on a signal that lives as long as the stream.
   */
  private async apply(batch: readonly Event[]): Promise<void> {
    const entryIds = new Set<string>();
    const agentIds = new Set<string>();
    for (const event of batch) {
      if (event.kind === Event_Kind.ENTRY && event.key?.$case === "entryId") entryIds.add(event.key.value);
      else if (event.kind === Event_Kind.NODE_SELECTORS && event.key?.$case === "spiffeId") agentIds.add(event.key.value);
    }
    const ds = this.deps.dataStore;
    const [entries, selectors] = await Promise.all([
      entryIds.size > 0 ? ds.fetchEntries({ ids: [...entryIds] }, { deadline: readTimeoutMs }).then((r) => r.entries) : [],
      Promise.all(
        [...agentIds].map(async (id): Promise<[string, Selector[]]> => [
          id,
          (await ds.getNodeSelectors({ spiffeId: id }, { deadline: readTimeoutMs })).selectors,
        ]),
      ),
    ]);
    const found = new Map(entries.map((e) => [e.id, e]));
    for (const id of entryIds) {
      const entry = found.get(id);
      if (entry) this.index.putEntry(entry);
      else this.index.removeEntry(id);
    }
    for (const [id, list] of selectors) this.index.setAgentSelectors(id, list);
    const last = batch[batch.length - 1];
    if (last && last.eventId > this.cursor) this.cursor = last.eventId;
    this.deps.logger.debug("entry cache applied events", {
      events: batch.length,
      entries: entryIds.size,
      agents: agentIds.size,
      event_id: String(this.cursor),
    });
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    for (const w of this.waiters) {
      if (this.cursor >= w.eventId) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }
}

interface Waiter {
  readonly eventId: bigint;
  resolve(): void;
  reject(e: Error): void;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
