/**
 * @signet/plugin-datastore-sql as a library: builds the DataStore service
 * implementation for a configuration, so the plugin program (index.ts) and
 * in-process test helpers (test/fakes/datastore.ts) serve the same code.
 *
 *   const ds = await createSqlDataStore(await parseConfig(text), log);
 *   server.addService(...implement(DataStoreService, ds.service));
 *   ...
 *   await ds.close();
 */
import type { Logger } from "@signet/plugin-sdk";
import { type SqlConfig, parseConfig } from "./config.js";
import { dialectOf, openDatabase } from "./connection.js";
import { classify } from "./errors.js";
import { EventFeed } from "./feed.js";
import { migrate, schemaVersion } from "./migrations.js";
import { type DataStoreImpl, dataStoreService } from "./service.js";
import type { Store } from "./store.js";

export { parseConfig, type SqlConfig, type DatabaseType } from "./config.js";
export type { DataStoreImpl } from "./service.js";
export { schemaVersion } from "./migrations.js";

export interface SqlDataStore {
  /** The DataStore service, for `implement(DataStoreService, service)`. */
  readonly service: DataStoreImpl;
  readonly config: SqlConfig;
  /** Stops the change feed (open streams end UNAVAILABLE) and closes the connection pool. */
  close(): Promise<void>;
}

/** Opens the database, migrates it (unless disabled), starts the change feed. */
export async function createSqlDataStore(config: SqlConfig, log: Logger): Promise<SqlDataStore> {
  const knex = openDatabase(config);
  const dialect = dialectOf(config.databaseType);
  let feed: EventFeed | undefined;
  const store: Store = { knex, dialect, committed: () => feed?.nudge() };
  try {
    if (config.roConnectionString) {
      log.info("ro_connection_string is accepted but not used: reads go to connection_string", { database_type: config.databaseType });
    }
    await migrate(knex, dialect, config.disableMigration);
    feed = new EventFeed(store, { pollIntervalMs: config.eventsPollIntervalMs, gapTimeoutMs: config.eventsGapTimeoutMs }, log);
    await feed.start();
  } catch (e) {
    await knex.destroy().catch(() => {});
    throw classify(e);
  }
  log.info("Connected to the database", { database_type: config.databaseType, schema_version: schemaVersion });
  const started = feed;
  let closed = false;
  return {
    service: dataStoreService(store, started),
    config,
    async close() {
      if (closed) return;
      closed = true;
      started.stop();
      await knex.destroy();
    },
  };
}

/** Parses the configuration text and opens the store in one step. */
export async function openSqlDataStore(text: string, log: Logger): Promise<SqlDataStore> {
  return createSqlDataStore(await parseConfig(text), log);
}
