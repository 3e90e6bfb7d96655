/**
 * Plugin logging in the shape go-plugin hosts parse: one JSON object per line
 * on the real stderr, with "@level", "@message" and "@timestamp" (six-digit
 * fraction, as hclog writes it; another precision makes Go hosts drop the
 * line to raw text). Every other key becomes a field on the host's log line.
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

const order: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = order[options.level ?? "trace"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const entry: Record<string, unknown> = { "@level": level, "@message": message, "@timestamp": hclogTimestamp(now()) };
    for (const [k, v] of Object.entries(base)) entry[k] = v;
    if (fields) for (const [k, v] of Object.entries(fields)) entry[k] = v;
    write(`${JSON.stringify(entry, jsonSafe)}\n`);
  };
  return {
    trace: (m, f) => emit("trace", m, f),
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    log: emit,
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Go layout 2006-01-02T15:04:05.000000Z07:00, in UTC. */
export function hclogTimestamp(d: Date): string {
  const iso = d.toISOString(); // 2026-11-23T09:40:00.123Z
  return `${iso.slice(0, 23)}000Z`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  return value;
}
