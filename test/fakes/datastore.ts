/**
 * A real DataStore for tests, in process: the sql DataStore plugin's own
 * service implementation (real SQL, SQLite in a fresh temporary directory by
 * default) served with grpc-js on a temporary Unix socket, and a typed client
 * of it. Tests of the CA, the server APIs or the entry cache get the exact
 * wire behaviour of the plugin without spawning a process.
 *
 *   const { dataStore, close } = await startTestDataStore();
 *   await dataStore.createBundle({ bundle });
 *   ...
 *   await close();
 *
 * PostgreSQL/MySQL: pass databaseType and a connectionString to a database the
 * test owns; the schema is created in it if missing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { type AsyncClient, createClient, implement, unlimitedMessageSize } from "@signet/proto";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { createLogger } from "@signet/plugin-sdk";
import type { DataStoreUnderTest } from "@signet/plugin-sdk/conformance";
import { createSqlDataStore, parseConfig } from "../../plugins/datastore-sql/src/datastore.js";

export type TestDataStoreClient = AsyncClient<typeof DataStoreService>;

export interface TestDataStoreOptions {
  readonly databaseType?: "sqlite3" | "postgres" | "mysql";
  readonly connectionString?: string;
  /** Change-feed poll interval (default 50ms: tests see other instances' writes quickly). */
  readonly eventsPollInterval?: string;
  /** Change-feed gap timeout (default 1s). */
  readonly eventsGapTimeout?: string;
}

export interface TestDataStore {
  readonly dataStore: TestDataStoreClient;
  /** The SQLite file (default setup) or the connection string used. */
  readonly connectionString: string;
  close(): Promise<void>;
}

export async function startTestDataStore(opts: TestDataStoreOptions = {}): Promise<TestDataStore> {
  const databaseType = opts.databaseType ?? "sqlite3";
  const dir = mkdtempSync(join(tmpdir(), "signet-test-datastore-"));
  const connectionString = opts.connectionString ?? join(dir, "datastore.sqlite3");
  const config = await parseConfig(
    JSON.stringify({
      database_type: databaseType,
      connection_string: connectionString,
      events_poll_interval: opts.eventsPollInterval ?? "50ms",
      events_gap_timeout: opts.eventsGapTimeout ?? "1s",
    }),
  );
  const log = createLogger({ level: process.env.SIGNET_TEST_LOG ? "debug" : "error" });
  let store;
  try {
    store = await createSqlDataStore(config, log);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const server = new Server({ ...unlimitedMessageSize });
  const reg = implement(DataStoreService, store.service);
  server.addService(reg.definition as never, reg.implementation);
  const socket = join(dir, "datastore.sock");
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const channel = new Channel(`unix://${socket}`, credentials.createInsecure(), { ...unlimitedMessageSize });
  const dataStore = createClient(DataStoreService, channel);
  let closed = false;
  return {
    dataStore,
    connectionString,
    async close() {
      if (closed) return;
      closed = true;
      channel.close();
      await store.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A database of its own for one test (dropped afterwards), so parallel runs never collide. */
export interface TestDatabase {
  readonly databaseType: "sqlite3" | "postgres" | "mysql";
  readonly connectionString: string;
  drop(): Promise<void>;
}

/** Where the test servers are; override with SIGNET_TEST_POSTGRES / SIGNET_TEST_MYSQL (URLs). */
export const testServers = {
  postgres: process.env.SIGNET_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test",
  mysql: process.env.SIGNET_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/test",
} as const;

let made = 0;

/** A fresh empty database: a temporary SQLite file, or a new database on the PostgreSQL/MySQL test server. */
export async function createTestDatabase(databaseType: "sqlite3" | "postgres" | "mysql"): Promise<TestDatabase> {
  if (databaseType === "sqlite3") {
    const dir = mkdtempSync(join(tmpdir(), "signet-test-db-"));
    return { databaseType, connectionString: join(dir, "datastore.sqlite3"), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `signet_test_${process.pid}_${Date.now().toString(36)}_${++made}`;
  const server = new URL(testServers[databaseType]);
  const admin = await adminConnection(databaseType);
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return {
    databaseType,
    connectionString: url.toString(),
    async drop() {
      const a = await adminConnection(databaseType);
      try {
        await a.raw(databaseType === "postgres" ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await a.destroy();
      }
    },
  };
}

async function adminConnection(databaseType: "postgres" | "mysql") {
  const { default: knex } = await import("knex");
  if (databaseType === "postgres") return knex({ client: "pg", connection: testServers.postgres, pool: { min: 0, max: 1 } });
  const url = new URL(testServers.mysql);
  return knex({
    client: "mysql2",
    connection: { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1) },
    pool: { min: 0, max: 1 },
  });
}

/**
 * Why a database server cannot be used ("" when it can). Tests skip with
 * this reason locally; under CI=true they must fail instead.
 */
export async function unavailableReason(databaseType: "postgres" | "mysql"): Promise<string> {
  try {
    const admin = await adminConnection(databaseType);
    try {
      await admin.raw("SELECT 1");
    } finally {
      await admin.destroy();
    }
    return "";
  } catch (e) {
    return `${databaseType} test server ${testServers[databaseType].replace(/\/\/[^@]*@/, "//…@")} is unreachable: ${(e as Error).message}`;
  }
}

/** The plugin's service, in process, as the DataStore conformance suite's store under test. */
export function inProcessDataStore(databaseType: "sqlite3" | "postgres" | "mysql"): DataStoreUnderTest {
  return {
    name: databaseType,
    async newDatabase() {
      const db = await createTestDatabase(databaseType);
      return {
        async open() {
          const ds = await startTestDataStore({ databaseType, connectionString: db.connectionString });
          return { client: ds.dataStore, close: () => ds.close() };
        },
        drop: () => db.drop(),
      };
    },
  };
}
