/**
 * The host's structured logger: one line per event, JSON by default
 * (`{"time":…,"level":"info","msg":"Plugin loaded","plugin_type":"KeyManager",…}`),
 * or SPIRE-style text (`time=… level=info msg="Plugin loaded" plugin_type=KeyManager`).
 * Never pass secrets or private keys as fields.
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  with(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: "json" | "text";
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const order: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export function parseLogLevel(value: string): LogLevel {
  const v = value.toLowerCase();
  if (v === "warning") return "warn";
  if (v in order) return v as LogLevel;
  throw new Error(`unknown log level "${value}": expected one of trace, debug, info, warn, error`);
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = order[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "json";
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const entry: Record<string, unknown> = { time: now().toISOString(), level, msg, ...base, ...fields };
    write(format === "json" ? `${JSON.stringify(entry, jsonSafe)}\n` : `${textLine(entry)}\n`);
  };
  return {
    trace: (m, f) => log("trace", m, f),
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    log,
    with: (fields) => createLogger(options, { ...base, ...fields }),
    enabled: (level) => order[level] >= min,
  };
}

/** A logger that drops everything (tests, `-silent`). */
export const nullLogger: Logger = createLogger({ write: () => {} });

function textLine(entry: Record<string, unknown>): string {
  return Object.entries(entry)
    .map(([k, v]) => {
      const s = typeof v === "string" ? v : JSON.stringify(v, jsonSafe);
      return `${k}=${/[\s"=]/.test(s ?? "") ? JSON.stringify(s) : s}`;
    })
    .join(" ");
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}
