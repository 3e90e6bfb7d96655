/**
 * The Logger API of both hosts (spire.api.server.logger.v1 and
 * spire.api.agent.logger.v1 carry the same messages): read and change the
 * process log level at run time. The endpoints decide who may call it.
 */
import { Code, RpcError } from "@signet/proto";
import { LogLevel, type Logger as ApiLogger } from "@signet/proto/spire/api/types/logger";
import type { LevelledLogger } from "../log/logger.js";
import { apiLevelOf, thresholdOf } from "./levels.js";

export interface LoggerServiceDeps {
  /** The process logger; its level at service creation is the launch level. */
  readonly log: LevelledLogger;
}

/** The three handlers; each host wraps them in its own service definition. */
export interface LoggerHandlers {
  getLogger(req: object): Promise<ApiLogger>;
  setLogLevel(req: { newLevel: LogLevel }): Promise<ApiLogger>;
  resetLogLevel(req: object): Promise<ApiLogger>;
}

export function loggerHandlers(deps: LoggerServiceDeps): LoggerHandlers {
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
        throw new RpcError(Code.INVALID_ARGUMENT, "newLevel value cannot be LogLevel_UNSPECIFIED");
      }
      const threshold = thresholdOf(req.newLevel);
      if (!threshold) throw new RpcError(Code.INVALID_ARGUMENT, "unsupported log level");
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
