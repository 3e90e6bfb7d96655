/**
 * Parsing the line a go-plugin plugin prints once it listens:
 * CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT[|MUX], e.g. `1|1|unix|/tmp/plugin42|grpc|`.
 */
export interface Handshake {
  readonly appVersion: number;
  readonly network: "unix" | "tcp";
  readonly address: string;
}

export class HandshakeError extends Error {
  override readonly name = "HandshakeError";
}

export function parseHandshakeLine(raw: string, offeredVersions: readonly number[] = [1]): Handshake {
  const line = raw.trim();
  const parts = line.split("|");
  if (parts.length < 4) {
    throw new HandshakeError(
      `unrecognized handshake line ${JSON.stringify(truncate(line))}: expected CORE|APP|NETWORK|ADDRESS|PROTOCOL ` +
        "(is this a go-plugin plugin? it must print nothing else on stdout before the handshake)",
    );
  }
  const [core, app, network, address, protocol = "netrpc", serverCert = ""] = parts as [string, string, string, string, string?, string?];
  if (core !== "1") {
    throw new HandshakeError(`incompatible go-plugin core protocol version ${JSON.stringify(core)}: this host speaks 1`);
  }
  const appVersion = Number(app);
  if (!/^\d+$/.test(app) || !offeredVersions.includes(appVersion)) {
    throw new HandshakeError(
      `plugin answered protocol version ${JSON.stringify(app)}, but this host offers ${offeredVersions.join(", ")}`,
    );
  }
  if (network !== "unix" && network !== "tcp") {
    throw new HandshakeError(`unknown address type ${JSON.stringify(network)} in handshake: expected unix or tcp`);
  }
  if (address === "") throw new HandshakeError("handshake line has an empty address");
  if (protocol !== "grpc") {
    throw new HandshakeError(`plugin speaks ${JSON.stringify(protocol)}; only gRPC plugins are supported`);
  }
  if (serverCert.length > 50) {
    throw new HandshakeError("plugin requested AutoMTLS (server certificate in handshake), which SPIRE and Signet do not use");
  }
  return { appVersion, network, address };
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
