/**
 * The daemon's logger from SPIRE's log_level / log_format / log_file keys
 * (both hosts): PANIC and FATAL log errors only, a log file is appended to.
 */
import { createWriteStream, writeFileSync } from "node:fs";
import { createLogger, type LevelledLogger, parseLogLevel } from "./logger.js";

export interface LogSettings {
  /** SPIRE's level names, upper case (PANIC … TRACE). */
  readonly logLevel: string;
  readonly logFormat: "text" | "json";
  readonly logFile?: string;
}

export function processLogger(settings: LogSettings): LevelledLogger {
  const level = settings.logLevel === "PANIC" || settings.logLevel === "FATAL" ? "error" : parseLogLevel(settings.logLevel);
  let write: ((line: string) => void) | undefined;
  if (settings.logFile) {
    writeFileSync(settings.logFile, "", { flag: "a" });
    const stream = createWriteStream(settings.logFile, { flags: "a" });
    write = (line) => void stream.write(line);
  }
  return createLogger({ level, format: settings.logFormat, ...(write ? { write } : {}) });
}
