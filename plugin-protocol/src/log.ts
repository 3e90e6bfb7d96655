/** The little logging this package needs; both hosts' and the SDK's loggers fit it. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export interface ProtocolLog {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}
