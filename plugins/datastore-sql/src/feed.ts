/**
 * The change feed: one poller per plugin instance follows the events table
 * and advances the delivery frontier; StreamEvents streams replay from the
 * table (or the poller's recent buffer) up to the frontier and then wait for
 * it to move.
 *
 * Holes. Event ids come from one counter but commit out of order when
 * several connections write. A hole below a committed event is held back
 * until it fills or is older than the gap timeout. Age is judged on the
 * database clock without remembering when the hole was first seen: the
 * writer holding the missing id allocated it before the event after the hole
 * was written (ids are allocated in time order), and it appends its events
 * as the last statement before commit, so once the event after the hole is
 * older than the gap timeout the missing id is abandoned. SQLite has one
 * writer at a time, so a hole there is final at once. Abandoned ids are
 * watched for a while; one that commits anyway ends every stream with
 * FAILED_PRECONDITION (its consumers must reload).
 */
import type { Event } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { Event_Kind } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Logger } from "@signet/plugin-sdk";
import { DataStoreError, failedPrecondition, invalid } from "./errors.js";
import { type Store, big, query, write } from "./store.js";

export interface FeedOptions {
  readonly pollIntervalMs: number;
  readonly gapTimeoutMs: number;
  /** Recent events kept in memory for streams that are nearly caught up. */
  readonly bufferSize?: number;
}

interface EventRow {
  event_id: unknown;
  kind: unknown;
  op: unknown;
  object_key: string;
  created_at_ms: unknown;
}

const pollBatch = 5_000;
const replayBatch = 1_000;

export class EventFeed {
  /** Every id at or below this is delivered or abandoned. */
  private frontier = 0n;
  private prunedThrough = 0n;
  /** Delivered events with ids in (bufferStart, frontier], ascending. */
  private buffer: Event[] = [];
  private bufferStart = 0n;
  private abandoned: Array<{ from: bigint; to: bigint; atMs: number }> = [];
  /** Bumped when an abandoned id commits: streams opened before must end. */
  private epoch = 0;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly bufferSize: number;

  constructor(
    private readonly store: Store,
    private readonly options: FeedOptions,
    private readonly log: Logger,
  ) {
    this.bufferSize = options.bufferSize ?? 10_000;
  }

  /** Finds where to start (events older than twice the gap timeout are settled) and starts polling. */
  async start(): Promise<void> {
    const { knex, dialect } = this.store;
    const state = await query(() => knex("feed_state").where({ id: 1 }).first("pruned_through"));
    this.prunedThrough = big(state?.pruned_through);
    const settled = await query(() =>
      knex("events")
        .whereRaw(`created_at_ms < ${dialect.nowMs} - ?`, [2 * this.options.gapTimeoutMs])
        .max({ m: "event_id" })
        .first(),
    );
    this.frontier = maxOf(this.prunedThrough, big((settled as { m?: unknown } | undefined)?.m));
    this.bufferStart = this.frontier;
    await this.poll();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake();
  }

  /** A local write committed: look now rather than at the next tick. */
  nudge(): void {
    if (!this.stopped) void this.poll().catch(() => {});
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((e: unknown) => this.log.warn("Change feed poll failed", { error: (e as Error).message }))
        .finally(() => this.schedule());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** One poll at a time; a request during a poll runs one more after it. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.pollOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const { knex, dialect } = this.store;
    const state = await query(() => knex("feed_state").where({ id: 1 }).first("pruned_through"));
    const pruned = big(state?.pruned_through);
    if (pruned > this.prunedThrough) this.prunedThrough = pruned;
    if (this.prunedThrough > this.frontier) {
      // Another server pruned past what we delivered: streams behind it fail on their next step.
      this.frontier = this.prunedThrough;
      this.buffer = [];
      this.bufferStart = this.frontier;
    }
    let changed = false;
    for (;;) {
      const rows = (await query(() =>
        knex("events").where("event_id", ">", this.frontier.toString()).orderBy("event_id").limit(pollBatch).select("*"),
      )) as EventRow[];
      let dbNow: bigint | undefined;
      let held = false;
      for (const row of rows) {
        const id = big(row.event_id);
        if (id !== this.frontier + 1n && !dialect.holesAreFinal) {
          dbNow ??= await this.databaseNow();
          if (dbNow - big(row.created_at_ms) <= BigInt(this.options.gapTimeoutMs)) {
            held = true;
            break;
          }
          this.abandoned.push({ from: this.frontier + 1n, to: id - 1n, atMs: Date.now() });
        }
        this.deliver(eventOf(row));
        changed = true;
      }
      if (held || rows.length < pollBatch) break;
    }
    await this.checkLateCommits();
    if (changed) this.wake();
  }

  private async databaseNow(): Promise<bigint> {
    const row = await query(() => this.store.knex.select(this.store.knex.raw(`${this.store.dialect.nowMs} as now`)).first());
    return big((row as { now?: unknown } | undefined)?.now);
  }

  private deliver(event: Event): void {
    this.frontier = event.eventId;
    this.buffer.push(event);
    if (this.buffer.length > this.bufferSize) {
      const drop = this.buffer.length - this.bufferSize;
      this.bufferStart = this.buffer[drop - 1]!.eventId;
      this.buffer = this.buffer.slice(drop);
    }
  }

  private async checkLateCommits(): Promise<void> {
    const keepMs = 10 * this.options.gapTimeoutMs;
    const now = Date.now();
    this.abandoned = this.abandoned.filter((a) => now - a.atMs < keepMs);
    if (this.abandoned.length === 0) return;
    const ranges = this.abandoned.slice(-200);
    const late = await query(() =>
      this.store
        .knex("events")
        .where((w) => {
          for (const r of ranges) w.orWhereBetween("event_id", [r.from.toString(), r.to.toString()]);
        })
        .first("event_id"),
    );
    if (!late) return;
    const id = big((late as EventRow).event_id);
    this.log.warn("An event id given up as abandoned committed later; open change-feed streams end so consumers reload", { event_id: id.toString() });
    this.abandoned = this.abandoned.filter((a) => !(a.from <= id && id <= a.to));
    this.epoch++;
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  private changed(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  async latest(): Promise<{ eventId: bigint; prunedThroughEventId: bigint }> {
    await this.poll();
    return { eventId: this.frontier, prunedThroughEventId: this.prunedThrough };
  }

  /** StreamEvents: replay after `after`, then live, until cancelled or the cursor becomes unusable. */
  async *stream(after: bigint, kinds: readonly Event_Kind[], signal?: AbortSignal): AsyncGenerator<Event> {
    for (const k of kinds) {
      if (!(k in Event_Kind) || k === Event_Kind.KIND_UNSPECIFIED || k === Event_Kind.UNRECOGNIZED) throw invalid(`unknown event kind ${k}`);
    }
    const wanted = kinds.length > 0 ? new Set(kinds) : undefined;
    await this.poll();
    const epoch = this.epoch;
    let cursor = after;
    if (cursor < this.prunedThrough) throw prunedError(cursor, this.prunedThrough);
    if (cursor > this.frontier) {
      const row = await query(() => this.store.knex("events").max({ m: "event_id" }).first());
      const highest = maxOf(big((row as { m?: unknown } | undefined)?.m), this.prunedThrough);
      if (cursor > highest) {
        throw failedPrecondition(`event id ${cursor} is beyond every event this database has written (${highest}); reload`);
      }
    }
    for (;;) {
      if (signal?.aborted) return;
      if (this.stopped) throw new DataStoreError("unavailable", "the plugin is shutting down");
      if (this.epoch !== epoch) throw failedPrecondition("an event committed after its id was given up as abandoned; reload");
      if (cursor < this.prunedThrough) throw prunedError(cursor, this.prunedThrough);
      if (cursor >= this.frontier) {
        await this.changed(signal);
        continue;
      }
      const { events, through } = cursor >= this.bufferStart ? this.fromBuffer(cursor) : await this.fromTable(cursor);
      for (const e of events) {
        if (!wanted || wanted.has(e.kind)) yield e;
        if (signal?.aborted) return;
      }
      cursor = through;
    }
  }

  private fromBuffer(cursor: bigint): { events: Event[]; through: bigint } {
    let lo = 0;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buffer[mid]!.eventId <= cursor) lo = mid + 1;
      else hi = mid;
    }
    const events = this.buffer.slice(lo, lo + replayBatch);
    const through = events.length === this.buffer.length - lo ? this.frontier : events[events.length - 1]!.eventId;
    return { events, through };
  }

  private async fromTable(cursor: bigint): Promise<{ events: Event[]; through: bigint }> {
    const upTo = this.frontier;
    const rows = (await query(() =>
      this.store
        .knex("events")
        .where("event_id", ">", cursor.toString())
        .andWhere("event_id", "<=", upTo.toString())
        .orderBy("event_id")
        .limit(replayBatch)
        .select("*"),
    )) as EventRow[];
    // Read the horizon after the page: a prune that removed rows this page skipped is visible now.
    const state = await query(() => this.store.knex("feed_state").where({ id: 1 }).first("pruned_through"));
    const pruned = big(state?.pruned_through);
    if (pruned > this.prunedThrough) this.prunedThrough = pruned;
    if (cursor < pruned) throw prunedError(cursor, pruned);
    const events = rows.map(eventOf);
    return { events, through: rows.length < replayBatch ? upTo : events[events.length - 1]!.eventId };
  }

  /** PruneEvents: deletes events older than the age, never past the frontier. */
  async prune(olderThanSeconds: bigint): Promise<bigint> {
    if (olderThanSeconds <= 0n) throw invalid("older_than_seconds must be positive");
    await this.poll();
    const frontier = this.frontier;
    const { dialect } = this.store;
    const horizon = await write(this.store, async (tx) => {
      const row = await tx
        .trx("events")
        .whereRaw(`created_at_ms < ${dialect.nowMs} - ?`, [(olderThanSeconds * 1000n).toString()])
        .andWhere("event_id", "<=", frontier.toString())
        .max({ m: "event_id" })
        .first();
      const through = big((row as { m?: unknown } | undefined)?.m);
      const state = await tx.trx("feed_state").where({ id: 1 }).first("pruned_through");
      const current = big(state?.pruned_through);
      if (through <= current) return current;
      await tx.trx("events").where("event_id", "<=", through.toString()).delete();
      await tx.trx("feed_state").where({ id: 1 }).update({ pruned_through: through.toString() });
      return through;
    });
    await this.poll();
    return horizon;
  }
}

function prunedError(cursor: bigint, horizon: bigint): DataStoreError {
  return failedPrecondition(`events after ${cursor} are no longer available (pruned through ${horizon}); reload`);
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function eventOf(r: EventRow): Event {
  const kind = Number(r.kind) as Event_Kind;
  const key: Event["key"] =
    kind === Event_Kind.ENTRY
      ? { $case: "entryId", value: r.object_key }
      : kind === Event_Kind.BUNDLE || kind === Event_Kind.FEDERATION_RELATIONSHIP
        ? { $case: "trustDomain", value: r.object_key }
        : { $case: "spiffeId", value: r.object_key };
  return { eventId: big(r.event_id), kind, op: Number(r.op), key, createdAt: big(r.created_at_ms) / 1000n };
}
