/**
 * spire.api.agent.logger.v1.Logger on the admin socket: the agent's log
 * level at run time (handlers shared with the server, host-common).
 */
import { type LoggerServiceDeps, loggerHandlers } from "@signet/host-common";
import { implement, type ServiceRegistration } from "@signet/proto";
import { LoggerService } from "@signet/proto/spire/api/agent/logger/v1/logger";

export function loggerService(deps: LoggerServiceDeps): ServiceRegistration {
  return implement(LoggerService, loggerHandlers(deps));
}
