/**
 * spire.api.server.logger.v1.Logger: read and change the server's log level
 * at run time (local callers only; the endpoint policy enforces that).
 */
import type { LevelledLogger } from "@signet/host-common";
import { type AsyncService, Code, type ServiceRegistration, implement } from "@signet/proto";
import { LoggerService } from "@signet/proto/spire/api/server/logger/v1/logger";
import { LogLevel, type Logger as ApiLogger } from "@signet/proto/spire/api/types/logger";
import { apiError } from "../../status.js";
import { apiLevelOf, thresholdOf } from "./levels.js";

export interface LoggerServiceDeps {
  /** The process logger; its level at service creation is the launch level. */
  readonly log: LevelledLogger;
}

export function loggerService(deps: LoggerServiceDeps): ServiceRegistration {
  return implement(LoggerService, loggerHandlers(deps));
}

export function loggerHandlers(deps: LoggerServiceDeps): AsyncService<typeof LoggerService> {
  const { log } = deps;
  const launchLevel = log.level();
  log.info("Logger service configured", { launch_log_level: launchLevel });
  const current = (): ApiLogger => ({ currentLevel: apiLevelOf(log.level()), launchLevel: apiLevelOf(launchLevel) });

  return {
    async getLogger() {
      log.info("GetLogger Called");
      return current();
    },

    async setLogLevel(req) {
      if (req.newLevel === LogLevel.UNSPECIFIED) {
        throw apiError(Code.INVALID_ARGUMENT, "newLevel value cannot be LogLevel_UNSPECIFIED");
      }
      const threshold = thresholdOf(req.newLevel);
      if (!threshold) throw apiError(Code.INVALID_ARGUMENT, "unsupported log level");
      log.info("SetLogLevel Called", { new_log_level: threshold });
      log.setLevel(threshold);
      return current();
    },

    async resetLogLevel() {
      log.info("ResetLogLevel Called", { launch_log_level: launchLevel });
      log.setLevel(launchLevel);
      return current();
    },
  };
}
