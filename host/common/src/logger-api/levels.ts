import type { LevelThreshold } from "../log/logger.js";
import { LogLevel } from "@signet/proto/spire/api/types/logger";

/** SPIRE's API log levels and our logger's thresholds, both ways (pkg/common/api/logger/levels.go). */
const toThreshold: ReadonlyMap<LogLevel, LevelThreshold> = new Map([
  [LogLevel.PANIC, "panic"],
  [LogLevel.FATAL, "fatal"],
  [LogLevel.ERROR, "error"],
  [LogLevel.WARN, "warn"],
  [LogLevel.INFO, "info"],
  [LogLevel.DEBUG, "debug"],
  [LogLevel.TRACE, "trace"],
]);

export function thresholdOf(level: LogLevel): LevelThreshold | undefined {
  return toThreshold.get(level);
}

export function apiLevelOf(threshold: LevelThreshold): LogLevel {
  for (const [api, t] of toThreshold) if (t === threshold) return api;
  return LogLevel.UNSPECIFIED;
}
