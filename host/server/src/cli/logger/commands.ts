/** `logger get|set|reset` [Logger API] */
import { LogLevel, type Logger } from "@signet/proto/spire/api/types/logger";
import { CliError, goQuote, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { logger as loggerSchema } from "../print/schemas.js";

/** logrus level names (Level.MarshalText; WARN is "warning"). */
const logrusNames: Partial<Record<LogLevel, string>> = {
  [LogLevel.PANIC]: "panic",
  [LogLevel.FATAL]: "fatal",
  [LogLevel.ERROR]: "error",
  [LogLevel.WARN]: "warning",
  [LogLevel.INFO]: "info",
  [LogLevel.DEBUG]: "debug",
  [LogLevel.TRACE]: "trace",
};

export function formatLogger(l: Logger): string {
  const current = logrusNames[l.currentLevel];
  if (!current) throw new CliError("internal error: returned current log level is undefined; please report this as a bug");
  const launch = logrusNames[l.launchLevel];
  if (!launch) throw new CliError("internal error: returned launch log level is undefined; please report this as a bug");
  return `Logger Level : ${current}\nLaunch Level : ${launch}\n\n`;
}

/** logrus.ParseLevel */
const levels: Record<string, LogLevel> = {
  panic: LogLevel.PANIC,
  fatal: LogLevel.FATAL,
  error: LogLevel.ERROR,
  warn: LogLevel.WARN,
  warning: LogLevel.WARN,
  info: LogLevel.INFO,
  debug: LogLevel.DEBUG,
  trace: LogLevel.TRACE,
};

export const loggerGet = apiCommand({
  name: "logger get",
  synopsis: "Gets the logger details",
  define() {
    return async ({ env, client, printer }) => {
      let l: Logger;
      try {
        l = await client.logger.getLogger({});
      } catch (e) {
        throw wrap("error fetching logger", e);
      }
      await printer.proto(loggerSchema, l, (x) => env.stdout(formatLogger(x)));
    };
  },
});

export const loggerSet = apiCommand({
  name: "logger set",
  synopsis: "Sets the logger details",
  define(fs) {
    const level = fs.string("level", "", "The new log level, one of (panic, fatal, error, warn, info, debug, trace)");
    return async ({ env, client, printer }) => {
      if (level.value === "") throw new CliError("a value (-level) must be set");
      const newLevel = levels[level.value.toLowerCase()];
      if (newLevel === undefined) throw new CliError(`the value ${goQuote(level.value)} is not a valid setting`);
      let l: Logger;
      try {
        l = await client.logger.setLogLevel({ newLevel });
      } catch (e) {
        throw wrap("failed to set log level", e);
      }
      await printer.proto(loggerSchema, l, (x) => env.stdout(formatLogger(x)));
    };
  },
});

export const loggerReset = apiCommand({
  name: "logger reset",
  synopsis: "Reset the logger details to launch level",
  define() {
    return async ({ env, client, printer }) => {
      let l: Logger;
      try {
        l = await client.logger.resetLogLevel({});
      } catch (e) {
        throw wrap("failed to reset logger", e);
      }
      await printer.proto(loggerSchema, l, (x) => env.stdout(formatLogger(x)));
    };
  },
});
