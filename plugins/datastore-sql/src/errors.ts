/**
 * Errors as values with a kind: domain code throws DataStoreError, driver
 * errors are classified by `fromDriverError`, and `toRpcError` (used once, at
 * the gRPC edge) turns either into the status the proto documents.
 */
import { Code, RpcError } from "@signet/plugin-sdk";

export type DataStoreErrorKind =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "unavailable"
  | "internal";

export class DataStoreError extends Error {
  override readonly name = "DataStoreError";
  constructor(
    readonly kind: DataStoreErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new DataStoreError("invalid-argument", message);
export const notFound = (message: string) => new DataStoreError("not-found", message);
export const alreadyExists = (message: string) => new DataStoreError("already-exists", message);
export const failedPrecondition = (message: string) => new DataStoreError("failed-precondition", message);

const codeOfKind: Record<DataStoreErrorKind, Code> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "not-found": Code.NOT_FOUND,
  "already-exists": Code.ALREADY_EXISTS,
  "failed-precondition": Code.FAILED_PRECONDITION,
  unavailable: Code.UNAVAILABLE,
  internal: Code.INTERNAL,
};

export function codeOf(kind: DataStoreErrorKind): Code {
  return codeOfKind[kind];
}

/** The one place a failure becomes a gRPC status. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const d = classify(e);
  return new RpcError(codeOf(d.kind), `datastore-sql: ${d.message}`);
}

/** Any failure as a DataStoreError (driver errors classified, others internal). */
export function classify(e: unknown): DataStoreError {
  if (e instanceof DataStoreError) return e;
  return fromDriverError(e);
}

interface DriverErrorLike {
  code?: string | number;
  errno?: number;
  message?: string;
  name?: string;
  sqlState?: string;
}

/** Classifies an error from sqlite3, pg, mysql2 or knex. */
export function fromDriverError(e: unknown): DataStoreError {
  const err = (e ?? {}) as DriverErrorLike;
  const message = String(err.message ?? e);
  const code = typeof err.code === "string" ? err.code : "";
  const errno = typeof err.errno === "number" ? err.errno : -1;
  // Unique violations: PostgreSQL 23505, MySQL 1062, SQLite "UNIQUE constraint failed".
  if (code === "23505" || errno === 1062 || /UNIQUE constraint failed/.test(message)) {
    return new DataStoreError("already-exists", `unique constraint violated: ${shortMessage(message)}`);
  }
  // Foreign keys: PostgreSQL 23503, MySQL 1451/1452, SQLite "FOREIGN KEY constraint failed".
  if (code === "23503" || errno === 1451 || errno === 1452 || /FOREIGN KEY constraint failed/.test(message)) {
    return new DataStoreError("failed-precondition", `foreign key constraint violated: ${shortMessage(message)}`);
  }
  if (isUnavailable(err, code, message)) return new DataStoreError("unavailable", `database unavailable: ${shortMessage(message)}`);
  return new DataStoreError("internal", shortMessage(message));
}

const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "40001", // serialization_failure: retry
  "40P01", // deadlock_detected: retry
]);

function isUnavailable(err: DriverErrorLike, code: string, message: string): boolean {
  if (unavailableCodes.has(code)) return true;
  if (code.startsWith("08")) return true; // PostgreSQL connection exceptions
  if (err.errno === 1213 || err.errno === 1205) return true; // MySQL deadlock / lock wait timeout: retry
  if (err.name === "KnexTimeoutError") return true;
  return /Connection terminated|connect ECONNREFUSED|Timeout acquiring a connection|database is locked|Cannot enqueue|server has gone away/i.test(message);
}

/** Driver messages can repeat the whole SQL statement; keep them readable. */
function shortMessage(message: string): string {
  const oneLine = message.replace(/\s+/g, " ").trim();
  // knex prefixes "<sql> - <driver message>".
  const dash = oneLine.lastIndexOf(" - ");
  const text = dash > 0 && /^(insert|update|delete|select|create|alter|drop|with)\b/i.test(oneLine) ? oneLine.slice(dash + 3) : oneLine;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
