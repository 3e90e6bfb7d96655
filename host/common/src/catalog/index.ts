export { Catalog, CatalogError, type CatalogOptions, type PluginRequest, type PluginValidation } from "./catalog.js";
export { ManagedPlugin, type PluginSpec, type PluginState, type SupervisorOptions } from "./supervisor.js";
export { type BackoffPolicy, defaultBackoff, restartDelay } from "./backoff.js";
export { resolvePluginCommand, findPackageDir, ResolveError, type PluginSource, type SignetPackageInfo } from "./resolve.js";
export { pluginTypes, serviceForType, builtinPackageName, type Side } from "./plugin-types.js";
export { catalogFromConfig, type CatalogFromConfigOptions } from "./from-config.js";
export { type ConfigAnswer, type ConfigCheck } from "./config-check.js";
export { validateFromConfig, pluginId, type CatalogValidation, type ValidationNotes } from "./validation.js";
export { validationReport, type ValidationReport } from "./validation-report.js";
