export * from "./log/logger.js";
export * from "./catalog/index.js";
export * from "./facades/index.js";
export * from "./config/load.js";
export * from "./config/plugins.js";
export * from "./config/cardinality.js";
export * from "./config/flags.js";
export * from "./health/health-listener.js";
