/**
 * spire.api.server.logger.v1.Logger: read and change the server's log level
 * at run time (local callers only; the endpoint policy enforces that). The
 * handlers are shared with the agent (host-common).
 */
import { type LoggerServiceDeps, loggerHandlers } from "@signet/host-common";
import { type ServiceRegistration, implement } from "@signet/proto";
import { LoggerService } from "@signet/proto/spire/api/server/logger/v1/logger";

export { loggerHandlers, type LoggerServiceDeps };

export function loggerService(deps: LoggerServiceDeps): ServiceRegistration {
  return implement(LoggerService, loggerHandlers(deps));
}
