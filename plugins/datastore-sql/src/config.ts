/**
 * The sql DataStore's configuration: SPIRE's `DataStore "sql"` keys, so a
 * SPIRE server.conf block works unchanged, plus Signet's change-feed knobs.
 *
 *   DataStore "sql" {
 *     plugin_data {
 *       database_type     = "sqlite3"
 *       connection_string = "/var/lib/signet/datastore.sqlite3"
 *     }
 *   }
 */
import { bool, decodePluginConfig, duration, int, object, oneOf, str } from "@signet/plugin-sdk";

export const configMessagePrefix = "datastore-sql";

export type DatabaseType = "sqlite3" | "postgres" | "mysql";

export interface SqlConfig {
  readonly databaseType: DatabaseType;
  /** SQLite: a file path (or ":memory:"); PostgreSQL: URL or libpq keyword/value; MySQL: URL or Go DSN. */
  readonly connectionString: string;
  /** Accepted for SPIRE compatibility; reads go to the primary connection. */
  readonly roConnectionString: string | undefined;
  /** Pool size (SPIRE: max_open_conns, default 100). SQLite always uses one connection. */
  readonly maxOpenConns: number;
  /** Connections kept when idle (SPIRE: max_idle_conns, default 2). */
  readonly maxIdleConns: number;
  /** Connections older than this are replaced (ms; 0 = never). */
  readonly connMaxLifetimeMs: number;
  /** Do not create or upgrade the schema at Configure; refuse a schema that is not current. */
  readonly disableMigration: boolean;
  /** MySQL/PostgreSQL TLS files, as SPIRE names them. */
  readonly rootCaPath: string | undefined;
  readonly clientCertPath: string | undefined;
  readonly clientKeyPath: string | undefined;
  /** How often the change feed looks for events written by other servers (ms). */
  readonly eventsPollIntervalMs: number;
  /**
   * How long a hole in the event id sequence may hold later events back
   * before the id is deemed abandoned (ms). Servers sharing a database must
   * use the same value.
   */
  readonly eventsGapTimeoutMs: number;
}

const schema = object({
  database_type: oneOf(["sqlite3", "postgres", "mysql"] as const),
  connection_string: str(),
  ro_connection_string: str().optional(),
  max_open_conns: int({ min: 0 }).default(100),
  max_idle_conns: int({ min: 0 }).default(2),
  conn_max_lifetime: duration().default(0),
  disable_migration: bool().default(false),
  log_sql: bool().default(false),
  root_ca_path: str().optional(),
  client_cert_path: str().optional(),
  client_key_path: str().optional(),
  events_poll_interval: duration().default(1_000),
  events_gap_timeout: duration().default(5_000),
});

/** Parses the text the host sends; throws with a message naming the offending key. */
export async function parseConfig(hclConfiguration: string): Promise<SqlConfig> {
  let raw: Awaited<ReturnType<typeof decode>>;
  try {
    raw = await decode(hclConfiguration);
  } catch (e) {
    throw new Error(`${configMessagePrefix}: ${(e as Error).message}`);
  }
  if (raw.connection_string.trim() === "") {
    throw new Error(`${configMessagePrefix}: connection_string is empty; expected ${connectionHint(raw.database_type)}`);
  }
  if (raw.events_poll_interval < 10) {
    throw new Error(`${configMessagePrefix}: events_poll_interval must be at least 10ms`);
  }
  if (raw.events_gap_timeout < 4 * raw.events_poll_interval) {
    throw new Error(`${configMessagePrefix}: events_gap_timeout must be at least 4 times events_poll_interval`);
  }
  return {
    databaseType: raw.database_type,
    connectionString: raw.connection_string,
    roConnectionString: raw.ro_connection_string || undefined,
    maxOpenConns: raw.max_open_conns === 0 ? 100 : raw.max_open_conns,
    maxIdleConns: raw.max_idle_conns,
    connMaxLifetimeMs: raw.conn_max_lifetime,
    disableMigration: raw.disable_migration,
    rootCaPath: raw.root_ca_path || undefined,
    clientCertPath: raw.client_cert_path || undefined,
    clientKeyPath: raw.client_key_path || undefined,
    eventsPollIntervalMs: raw.events_poll_interval,
    eventsGapTimeoutMs: raw.events_gap_timeout,
  };
}

function decode(text: string) {
  return decodePluginConfig(schema, text);
}

function connectionHint(type: DatabaseType): string {
  switch (type) {
    case "sqlite3":
      return 'the path of the database file, e.g. "/var/lib/signet/datastore.sqlite3"';
    case "postgres":
      return 'e.g. "dbname=spire user=spire host=127.0.0.1 sslmode=disable" or "postgres://spire@127.0.0.1/spire"';
    case "mysql":
      return 'e.g. "spire:secret@tcp(127.0.0.1:3306)/spire" or "mysql://spire:secret@127.0.0.1/spire"';
  }
}
