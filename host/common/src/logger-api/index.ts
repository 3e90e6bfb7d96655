export { loggerHandlers, type LoggerHandlers, type LoggerServiceDeps } from "./handlers.js";
export { apiLevelOf, thresholdOf } from "./levels.js";
