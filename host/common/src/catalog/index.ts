export { Catalog, CatalogError, type CatalogOptions, type PluginRequest } from "./catalog.js";
export { ManagedPlugin, type PluginSpec, type PluginState, type SupervisorOptions } from "./supervisor.js";
export { type BackoffPolicy, defaultBackoff, restartDelay } from "./backoff.js";
export { resolvePluginCommand, findPackageDir, ResolveError, type PluginSource, type SignetPackageInfo } from "./resolve.js";
export { pluginTypes, serviceForType, builtinPackageName, type Side } from "./plugin-types.js";
export { catalogFromConfig, type CatalogFromConfigOptions } from "./from-config.js";
