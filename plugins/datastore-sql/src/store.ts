/**
 * What every concept's code works with: the database, its dialect, and the
 * two kinds of transaction the contract asks for. A write transaction
 * collects the change events its work produces and appends them as its last
 * statement, so an event id is held for the shortest possible time before
 * commit (the change feed's gap timeout relies on that).
 */
import type { Knex } from "knex";
import { Event_Kind, Event_Op } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Dialect } from "./connection.js";
import { classify } from "./errors.js";

export { Event_Kind as EventKind, Event_Op as EventOp };

export interface PendingEvent {
  readonly kind: Event_Kind;
  readonly op: Event_Op;
  readonly key: string;
}

export interface Store {
  readonly knex: Knex;
  readonly dialect: Dialect;
  /** Called after a write that appended events commits (the feed polls at once). */
  readonly committed: () => void;
}

/** A write in progress: the transaction plus the events it will append. */
export interface Tx {
  readonly trx: Knex.Transaction;
  readonly dialect: Dialect;
  event(kind: Event_Kind, op: Event_Op, key: string): void;
}

/** Runs `work` in one transaction; its events are appended last, in the order recorded. */
export async function write<T>(store: Store, work: (tx: Tx) => Promise<T>): Promise<T> {
  const events: PendingEvent[] = [];
  let result: T;
  try {
    result = await store.knex.transaction(async (trx) => {
      events.length = 0; // a retried body starts over
      const value = await work({ trx, dialect: store.dialect, event: (kind, op, key) => events.push({ kind, op, key }) });
      if (events.length > 0) {
        const now = store.knex.raw(store.dialect.nowMs);
        await trx("events").insert(events.map((e) => ({ kind: e.kind, op: e.op, object_key: e.key, created_at_ms: now })));
      }
      return value;
    });
  } catch (e) {
    throw classify(e);
  }
  if (events.length > 0) store.committed();
  return result;
}

/** Runs reads that must agree with each other (one page of a list) in one snapshot. */
export async function read<T>(store: Store, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  try {
    if (store.dialect.type === "sqlite3") return await store.knex.transaction(work);
    return await store.knex.transaction(work, { isolationLevel: "repeatable read" });
  } catch (e) {
    throw classify(e);
  }
}

/** A single statement (or reads that need not agree). */
export async function query<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw classify(e);
  }
}

/** Splits a list for IN (…) clauses. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Drivers return BIGINT as number, string or bigint depending on engine and size. */
export function big(v: unknown): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(Math.trunc(v));
  return BigInt(String(v));
}

export function num(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return Number(v);
}

export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === "1" || v === "t";
}

/** A bigint for a BIGINT column: numbers when safe (all drivers take them), strings beyond. */
export function dbBig(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

export function bytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === "string") return Buffer.from(v, "binary");
  return Buffer.alloc(0);
}
