/**
 * @signet/server: the Signet server daemon (bin `signet-server`). The face is
 * small: start a server from a config (tests, the quickstart, embedding);
 * everything else is reached through its APIs.
 */
export { loadServerConfig, fromFile } from "./config/load.js";
export type { ServerConfig, ServerFlagOverrides, LoadOptions, KeyType } from "./config/server-config.js";
export { startServer, runServer, serverLogger, type RunningServer, type StartOptions } from "./server.js";
