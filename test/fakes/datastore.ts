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
import { Server, ServerCredentials, credentials, Client } from "@grpc/grpc-js";
import { type AsyncClient, createClient, implement, unlimitedMessageSize } from "@signet/proto";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { createLogger } from "@signet/plugin-sdk";
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
  const grpcClient = new Client(`unix://${socket}`, credentials.createInsecure(), { ...unlimitedMessageSize });
  const dataStore = createClient(DataStoreService, grpcClient.getChannel());
  let closed = false;
  return {
    dataStore,
    connectionString,
    async close() {
      if (closed) return;
      closed = true;
      grpcClient.close();
      await store.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
