export * from "./log/logger.js";
export * from "./catalog/index.js";
export * from "./facades/index.js";
