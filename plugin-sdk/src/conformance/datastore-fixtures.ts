/**
 * What the DataStore checks share: the store under test (how to get a fresh
 * database and plugin instances on it), a context per check, message
 * builders, and a few comparisons.
 */
import { generateKeyPairSync } from "node:crypto";
import type { AsyncClient } from "@signet/proto";
import type { DataStoreService, Event } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { encodeName, mintCertificateSync, keyObjectSigner, spkiOf } from "@signet/spiffe";
import { expect, fail } from "./assert.js";

export type DataStoreClient = AsyncClient<typeof DataStoreService>;

/** One running plugin instance (a process or an in-process server) and its client. */
export interface DataStoreInstance {
  readonly client: DataStoreClient;
  close(): Promise<void>;
}

/** One empty database; every instance opened on it shares its data and change feed. */
export interface DataStoreDatabase {
  open(): Promise<DataStoreInstance>;
  /** Removes the database (closing instances is the caller's job). */
  drop(): Promise<void>;
}

/** How the suite reaches the store under test. */
export interface DataStoreUnderTest {
  /** Shown in the suite name, e.g. "sqlite3" or "postgres". */
  readonly name: string;
  /** A new, empty database (e.g. a temporary SQLite file or a fresh PostgreSQL database). */
  newDatabase(): Promise<DataStoreDatabase>;
}

/** What a check gets. */
export interface CheckContext {
  /** An instance on the database most checks share (other checks' data is there too: use unique names). */
  shared(): Promise<DataStoreClient>;
  /** A new empty database with `instances` instances on it, closed after the check. */
  fresh(instances?: number): Promise<DataStoreClient[]>;
  /** A name unique within the run, e.g. for trust domains and ids. */
  unique(prefix: string): string;
}

export const now = (): bigint => BigInt(Math.floor(Date.now() / 1000));

export function entry(fields: Partial<Entry> & { spiffeId: Entry["spiffeId"]; parentId: Entry["parentId"]; selectors: Selector[] }): Entry {
  return {
    id: "",
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
    additionalAttributes: undefined,
    ...fields,
  };
}

export function id(trustDomain: string, path: string): { trustDomain: string; path: string } {
  return { trustDomain, path };
}

export function sel(type: string, value: string): Selector {
  return { type, value };
}

export function bundle(trustDomain: string, fields: Partial<Bundle> = {}): Bundle {
  return {
    trustDomain,
    x509Authorities: [],
    jwtAuthorities: [],
    refreshHint: 0n,
    sequenceNumber: 0n,
    witAuthorities: [],
    ...fields,
  };
}

const signingKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
const spki = spkiOf(signingKey.publicKey);
const signer = keyObjectSigner(signingKey.privateKey);
let serial = 1n;

/** A self-signed certificate (DER) that expires at `notAfter` (seconds). */
export function certificate(notAfter: bigint, cn = "conformance"): Buffer {
  const name = encodeName({ commonName: cn });
  return mintCertificateSync(
    {
      serial: serial++,
      issuer: name,
      subject: name,
      notBefore: new Date(Number(notAfter - 7200n) * 1000),
      notAfter: new Date(Number(notAfter) * 1000),
      spki,
      extensions: [],
    },
    signer,
  );
}

export function jwtKey(keyId: string, expiresAt: bigint): JWTKey {
  return { publicKey: spki, keyId, expiresAt, tainted: false };
}

/** Canonical text of a message (keys sorted; bigints and buffers printable) for equality and messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)) {
      return `base64:${Buffer.from((v as { data: number[] }).data).toString("base64")}`;
    }
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  const a = show(actual);
  const e = show(expected);
  expect(a === e, `${what}: got ${a}, expected ${e}`);
}

/** An entry as stored: the fields the caller wrote, compared without server-assigned ones. */
export function expectSameEntry(actual: Entry | undefined, expected: Entry, what: string): void {
  if (!actual) fail(`${what}: no entry`);
  const strip = (e: Entry) => ({ ...e, id: "", revisionNumber: 0n, createdAt: 0n, selectors: sortSelectors(e.selectors), federatesWith: [...e.federatesWith].sort() });
  expectEqual(strip(actual), strip(expected), what);
}

export function sortSelectors(s: readonly Selector[]): Selector[] {
  return [...s].sort((a, b) => (a.type === b.type ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.type < b.type ? -1 : 1));
}

/** Every page of a streaming list, collected. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of stream) out.push(page);
  return out;
}

/** Short description of an event for messages. */
export function describeEvent(e: Event): string {
  return `#${e.eventId} ${e.kind}/${e.op} ${e.key?.value ?? "?"}`;
}

/** Reads events from a stream until `count` arrived or `timeoutMs` passed; cancels the stream after. */
export async function readEvents(client: DataStoreClient, after: bigint, count: number, timeoutMs = 10_000, kinds: number[] = []): Promise<Event[]> {
  const controller = new AbortController();
  const events: Event[] = [];
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for await (const e of client.streamEvents({ afterEventId: after, kinds }, { signal: controller.signal })) {
      events.push(e);
      if (events.length >= count) break;
    }
  } catch (e) {
    if (!controller.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}
