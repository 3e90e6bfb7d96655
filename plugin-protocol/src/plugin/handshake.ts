/**
 * The plugin side of go-plugin's launch contract: the cookie a host puts in
 * the environment, and the one line a plugin prints on stdout once it listens.
 */

/** go-plugin core protocol version; hosts reject anything else. */
export const coreProtocolVersion = 1;
/** The only application protocol version SPIRE's plugin SDK speaks. */
export const appProtocolVersion = 1;

/** SPIRE builds the cookie from the plugin type: key and value are both e.g. "KeyManager". */
export function hasCookie(type: string, env: NodeJS.ProcessEnv): boolean {
  return env[type] === type;
}

export function notLaunchedByHostMessage(type: string, program: string): string {
  return (
    `${program}: this program is a ${type} plugin for SPIRE or Signet and is started by the ` +
    `server or agent named in a plugins { ${type} "…" { … } } block; it is not meant to be run by hand.`
  );
}

/**
 * Versions the host offers in PLUGIN_PROTOCOL_VERSIONS (comma separated).
 * go-plugin answers with the highest version both know, else its lowest;
 * we only know 1, so we always answer 1 and let the host judge.
 */
export function negotiateAppVersion(env: NodeJS.ProcessEnv): number {
  void env.PLUGIN_PROTOCOL_VERSIONS;
  return appProtocolVersion;
}

/** `1|1|unix|/tmp/plugin123|grpc|`: the sixth field (AutoMTLS cert) stays empty for SPIRE. */
export function handshakeLine(network: "unix" | "tcp", address: string, appVersion = appProtocolVersion): string {
  return `${coreProtocolVersion}|${appVersion}|${network}|${address}|grpc|\n`;
}
