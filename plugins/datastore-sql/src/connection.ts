/**
 * Opening the database: one knex instance per plugin configuration, with the
 * driver for its database type, SPIRE's connection string formats, and the
 * per-connection settings each engine needs (SQLite: WAL, foreign keys, busy
 * timeout; MySQL: strict mode, UTC).
 */
import { readFileSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import knexFactory, { type Knex } from "knex";
import type { DatabaseType, SqlConfig } from "./config.js";
import { invalid } from "./errors.js";

export function openDatabase(config: SqlConfig): Knex {
  switch (config.databaseType) {
    case "sqlite3":
      return openSqlite(config);
    case "postgres":
      return knexFactory({
        client: "pg",
        connection: postgresConnection(config),
        pool: poolOf(config),
        acquireConnectionTimeout: 15_000,
      });
    case "mysql":
      return knexFactory({
        client: "mysql2",
        connection: mysqlConnection(config),
        pool: {
          ...poolOf(config),
          afterCreate: (conn: MysqlConn, done: (err: Error | null, conn: unknown) => void) => {
            conn.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'", (err) =>
              done(err ?? null, conn),
            );
          },
        },
        acquireConnectionTimeout: 15_000,
      });
  }
}

interface MysqlConn {
  query(sql: string, cb: (err: Error | null) => void): void;
}

interface SqliteConn {
  run(sql: string, cb: (err: Error | null) => void): void;
  configure?(option: "busyTimeout", value: number): void;
}

function openSqlite(config: SqlConfig): Knex {
  const filename = sqliteFilename(config.connectionString);
  if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
  return knexFactory({
    client: "sqlite3",
    connection: { filename },
    useNullAsDefault: true,
    // One connection: SQLite has one writer anyway, and a single connection
    // never meets SQLITE_BUSY from itself.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteConn, done: (err: Error | null, conn: unknown) => void) => {
        conn.configure?.("busyTimeout", 10_000);
        const pragmas = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"];
        const next = (i: number) => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  });
}

/** SPIRE takes a file path, optionally as a "file:" URI with query options; keep the path. */
export function sqliteFilename(connectionString: string): string {
  let s = connectionString.trim();
  if (s.startsWith("file:")) {
    s = s.slice("file:".length);
    const q = s.indexOf("?");
    if (q >= 0) s = s.slice(0, q);
    if (s.startsWith("//")) s = s.slice(2);
  }
  if (s === "") throw invalid("connection_string is empty");
  return s;
}

function poolOf(config: SqlConfig): Knex.PoolConfig {
  return {
    min: Math.min(config.maxIdleConns, config.maxOpenConns),
    max: config.maxOpenConns,
    ...(config.connMaxLifetimeMs > 0 ? { idleTimeoutMillis: config.connMaxLifetimeMs } : {}),
  };
}

/**
 * PostgreSQL: a URL (postgres://…) as pg takes it, or libpq's keyword/value
 * form ("dbname=spire user=spire host=… sslmode=disable") as SPIRE documents.
 */
export function postgresConnection(config: SqlConfig): Knex.PgConnectionConfig {
  const s = config.connectionString.trim();
  const tls = tlsOptions(config);
  if (/^postgres(ql)?:\/\//.test(s)) return { connectionString: s, ...(tls ? { ssl: tls } : {}) };
  const out: Record<string, unknown> = {};
  for (const [key, value] of parseKeywordValue(s)) {
    switch (key) {
      case "host":
      case "hostaddr":
        out.host = value;
        break;
      case "port":
        out.port = Number(value);
        break;
      case "dbname":
        out.database = value;
        break;
      case "user":
        out.user = value;
        break;
      case "password":
        out.password = value;
        break;
      case "sslmode":
        if (value !== "disable" && value !== "allow" && value !== "prefer") {
          out.ssl = { ...(tls ?? {}), rejectUnauthorized: value === "verify-full" || value === "verify-ca" };
        }
        break;
      case "connect_timeout":
        out.connectionTimeoutMillis = Number(value) * 1000;
        break;
      case "application_name":
        out.application_name = value;
        break;
      case "sslrootcert":
        out.ssl = { ...((out.ssl as object) ?? {}), ca: readFileSync(value, "utf8") };
        break;
      case "sslcert":
        out.ssl = { ...((out.ssl as object) ?? {}), cert: readFileSync(value, "utf8") };
        break;
      case "sslkey":
        out.ssl = { ...((out.ssl as object) ?? {}), key: readFileSync(value, "utf8") };
        break;
      default:
        // Other libpq keywords do not change what we store; ignore them.
        break;
    }
  }
  if (tls && out.ssl === undefined) out.ssl = tls;
  return out as Knex.PgConnectionConfig;
}

/** libpq "key=value key='quoted value'" pairs. */
export function parseKeywordValue(s: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= s.length) break;
    const eq = s.indexOf("=", i);
    if (eq < 0) throw invalid(`connection_string: expected key=value at ${JSON.stringify(s.slice(i))}`);
    const key = s.slice(i, eq).trim();
    i = eq + 1;
    skipSpace();
    let value = "";
    if (s[i] === "'") {
      i++;
      while (i < s.length && s[i] !== "'") {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      if (s[i] !== "'") throw invalid("connection_string: unterminated quoted value");
      i++;
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
    }
    pairs.push([key, value]);
  }
  return pairs;
}

/**
 * MySQL/MariaDB: a URL (mysql://user:pass@host:port/db) or the Go driver's
 * DSN that SPIRE documents: [user[:password]@][net[(addr)]]/dbname[?params].
 */
export function mysqlConnection(config: SqlConfig): Knex.MySql2ConnectionConfig {
  const s = config.connectionString.trim();
  const tls = tlsOptions(config);
  const base = { charset: "utf8mb4", supportBigNumbers: true, bigNumberStrings: true, timezone: "Z" };
  if (s.startsWith("mysql://")) {
    const url = new URL(s);
    return {
      ...base,
      host: url.hostname || "127.0.0.1",
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, "")),
      ...(tls ? { ssl: tls } : {}),
    } as Knex.MySql2ConnectionConfig;
  }
  const slash = s.lastIndexOf("/");
  if (slash < 0) throw invalid('connection_string: expected a Go MySQL DSN such as "user:pass@tcp(127.0.0.1:3306)/dbname"');
  const head = s.slice(0, slash);
  const tail = s.slice(slash + 1);
  const at = head.lastIndexOf("@");
  const cred = at >= 0 ? head.slice(0, at) : "";
  const netAddr = at >= 0 ? head.slice(at + 1) : head;
  const colon = cred.indexOf(":");
  const user = colon >= 0 ? cred.slice(0, colon) : cred;
  const password = colon >= 0 ? cred.slice(colon + 1) : "";
  const q = tail.indexOf("?");
  const database = q >= 0 ? tail.slice(0, q) : tail;
  const m = /^(\w*)(?:\((.*)\))?$/.exec(netAddr);
  if (!m) throw invalid(`connection_string: cannot read the network address ${JSON.stringify(netAddr)}`);
  const net = m[1] || "tcp";
  const addr = m[2] ?? "";
  const out: Record<string, unknown> = { ...base, user, password, database };
  if (net === "unix") out.socketPath = addr;
  else {
    const [host, port] = splitHostPort(addr || "127.0.0.1:3306");
    out.host = host;
    out.port = port;
  }
  if (tls) out.ssl = tls;
  return out as Knex.MySql2ConnectionConfig;
}

function splitHostPort(addr: string): [string, number] {
  const bracket = /^\[(.*)\]:(\d+)$/.exec(addr);
  if (bracket) return [bracket[1]!, Number(bracket[2])];
  const colon = addr.lastIndexOf(":");
  if (colon < 0) return [addr, 3306];
  return [addr.slice(0, colon), Number(addr.slice(colon + 1))];
}

function tlsOptions(config: SqlConfig): { ca?: string; cert?: string; key?: string } | undefined {
  if (!config.rootCaPath && !config.clientCertPath && !config.clientKeyPath) return undefined;
  return {
    ...(config.rootCaPath ? { ca: readFileSync(config.rootCaPath, "utf8") } : {}),
    ...(config.clientCertPath ? { cert: readFileSync(config.clientCertPath, "utf8") } : {}),
    ...(config.clientKeyPath ? { key: readFileSync(config.clientKeyPath, "utf8") } : {}),
  };
}

/** What differs between the engines, in one place. */
export interface Dialect {
  readonly type: DatabaseType;
  /** SQL for "now" in milliseconds since the epoch on the database's clock. */
  readonly nowMs: string;
  /**
   * Whether an id hole seen by a reader can never be filled later: true for
   * SQLite, where one writer at a time allocates and commits.
   */
  readonly holesAreFinal: boolean;
  /** Whether SELECT … FOR UPDATE exists. */
  readonly rowLocks: boolean;
  /** Max bound parameters to use in one IN list. */
  readonly maxInList: number;
}

export function dialectOf(type: DatabaseType): Dialect {
  switch (type) {
    case "sqlite3":
      return {
        type,
        nowMs: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        holesAreFinal: true,
        rowLocks: false,
        maxInList: 500,
      };
    case "postgres":
      // clock_timestamp(), not now(): now() is the transaction's start.
      return { type, nowMs: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)", holesAreFinal: false, rowLocks: true, maxInList: 1000 };
    case "mysql":
      return { type, nowMs: "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)", holesAreFinal: false, rowLocks: true, maxInList: 1000 };
  }
}
