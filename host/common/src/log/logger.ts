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

/**
 * A logger whose threshold can change at run time (SPIRE's Logger API:
 * SetLogLevel/ResetLogLevel). Loggers made with `with()` share the threshold
 * of the logger they came from, so one call changes the whole process.
 * "fatal" and "panic" thresholds let nothing through: we never log at them.
 */
export type LevelThreshold = LogLevel | "fatal" | "panic";

export interface LevelledLogger extends Logger {
  level(): LevelThreshold;
  setLevel(level: LevelThreshold): void;
  with(fields: LogFields): LevelledLogger;
}

export interface LoggerOptions {
  readonly level?: LevelThreshold;
  readonly format?: "json" | "text";
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const order: Record<LevelThreshold, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, panic: 6 };
const logLevels: readonly string[] = ["trace", "debug", "info", "warn", "error"];

export function parseLogLevel(value: string): LogLevel {
  const v = value.toLowerCase();
  if (v === "warning") return "warn";
  if (logLevels.includes(v)) return v as LogLevel;
  throw new Error(`unknown log level "${value}": expected one of trace, debug, info, warn, error`);
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): LevelledLogger {
  return withThreshold(options, base, { level: options.level ?? "info" });
}

function withThreshold(options: LoggerOptions, base: LogFields, threshold: { level: LevelThreshold }): LevelledLogger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "json";
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (order[level] < order[threshold.level]) return;
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
    with: (fields) => withThreshold(options, { ...base, ...fields }, threshold),
    enabled: (level) => order[level] >= order[threshold.level],
    level: () => threshold.level,
    setLevel: (level) => {
      if (!(level in order)) throw new Error(`unknown log level "${String(level)}"`);
      threshold.level = level;
    },
  };
}

/** A logger that drops everything (tests, `-silent`). */
export const nullLogger: LevelledLogger = createLogger({ write: () => {} });

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
