/**
 * @signet/plugin-protocol: the transport under every Signet and SPIRE plugin.
 *
 * Host side: launch a plugin program (checksum, cookie, handshake line), then
 * connect (broker stream with host services as id 1, stdio, Init, Configure).
 * Plugin side: the pieces a plugin serves (broker, controller, stdio, health)
 * and the handshake line it prints. The SDK and the hosts build on this.
 */
export type { LogLevel, ProtocolLog } from "./log.js";

export { parseHandshakeLine, HandshakeError, type Handshake } from "./host/handshake.js";
export { launchPlugin, pluginEnvironment, verifyChecksum, LaunchError, type LaunchCommand, type LaunchOptions, type LaunchedPlugin } from "./host/launch.js";
export { PluginConnection } from "./host/connection.js";
export { HostServiceServer } from "./host/host-services.js";
export { relayPluginLine, LineTail } from "./host/stderr-log.js";

export { Broker, brokerTimeoutMs } from "./plugin/broker.js";
export { StdioRelay } from "./plugin/stdio.js";
export { controllerService } from "./plugin/controller.js";
export { healthService } from "./plugin/health.js";
export { watchParent } from "./plugin/parent-watch.js";
export type { HostConnection } from "./plugin/host-connection.js";
export {
  appProtocolVersion,
  coreProtocolVersion,
  handshakeLine,
  hasCookie,
  negotiateAppVersion,
  notLaunchedByHostMessage,
} from "./plugin/handshake.js";
