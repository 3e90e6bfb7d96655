/**
 * The server's API endpoints (SPIRE's pkg/server/endpoints): the TCP API
 * (TLS with the server SVID, client certificate optional, for agents,
 * downstream servers and remote admins) and the local API on a Unix socket
 * (plaintext, every caller "local"). Services are registered per transport;
 * every handler runs behind authorization and rate limits.
 */
import type { TLSSocket } from "node:tls";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { noChannelz, type ServiceRegistration } from "@signet/proto";
import type { TrustDomain } from "@signet/spiffe";
import { type Logger, nullLogger } from "@signet/host-common";
import type { AuthorizedEntries } from "../authorizedentries/authorized-entries.js";
import type { DataStore } from "../datastore/datastore.js";
import { type AttestedNodes, dataStoreAttestedNodes } from "./agent-authorizer.js";
import { Authorizer } from "./authorize.js";
import { DataStoreBundleCache, type X509BundleSource } from "./bundle-source.js";
import { healthService } from "./health.js";
import { prepareLocalSocket, restrictLocalSocket } from "./local-socket.js";
import { type MiddlewareDeps, secureRegistration } from "./middleware.js";
import { methodLimits, type RateLimitConfig } from "./rate-limit.js";
import type { ServerSvidSource } from "./svid-source.js";
import { ConnectionRegistry, createTlsListener } from "./tls-listener.js";

/** SPIRE's defaultMaxConnectionAge: agents are sent GOAWAY and reconnect. */
export const maxConnectionAgeMs = 3 * 60_000;
/** SPIRE's gracefulStopTimeout. */
export const gracefulStopTimeoutMs = 10_000;

export interface EndpointsConfig {
  readonly trustDomain: TrustDomain;
  /** bind_address / bind_port (port 0 picks a free one; see tcpPort). */
  readonly bindAddress: string;
  readonly bindPort: number;
  /** socket_path */
  readonly socketPath: string;
  /** admin_ids (SPIFFE ID strings). */
  readonly adminIds: readonly string[];
  /** ratelimit { attestation, signing } */
  readonly rateLimit: RateLimitConfig;
  /** The server's own X509-SVID, read per TLS handshake. */
  readonly svid: ServerSvidSource;
  readonly dataStore: Pick<DataStore, "fetchBundle" | "fetchAttestedNode" | "updateAttestedNode">;
  readonly authorizedEntries: Pick<AuthorizedEntries, "isAdmin" | "isDownstream">;
  readonly log?: Logger;
  /** Register grpc.health.v1.Health on the local socket (default true). */
  readonly healthService?: boolean;
  // Seams for tests; production uses the defaults.
  readonly bundles?: X509BundleSource;
  readonly attestedNodes?: AttestedNodes;
  readonly now?: () => Date;
  readonly maxConnectionAgeMs?: number;
  readonly gracefulStopTimeoutMs?: number;
}

export interface RegisterOn {
  readonly tcp: boolean;
  readonly uds: boolean;
}

export class Endpoints {
  private readonly log: Logger;
  private readonly connections = new ConnectionRegistry();
  private readonly deps: MiddlewareDeps;
  private readonly tcpServer: Server;
  private readonly udsServer: Server;
  private tlsListener: ReturnType<typeof createTlsListener> | undefined;
  private readonly sockets = new Set<TLSSocket>();
  private state: "new" | "started" | "stopped" = "new";
  private boundTcpPort = 0;

  constructor(private readonly config: EndpointsConfig) {
    this.log = config.log ?? nullLogger;
    const now = config.now ?? (() => new Date());
    this.deps = {
      authorizer: new Authorizer({
        trustDomain: config.trustDomain,
        adminIds: config.adminIds,
        bundles: config.bundles ?? new DataStoreBundleCache(config.dataStore, () => now().getTime()),
        entries: config.authorizedEntries,
        nodes: config.attestedNodes ?? dataStoreAttestedNodes(config.dataStore),
        now,
      }),
      connections: this.connections,
      limits: methodLimits(config.rateLimit),
      nowMs: () => now().getTime(),
    };
    this.tcpServer = new Server({
      ...noChannelz,
      interceptors: [this.connections.interceptor],
      "grpc.max_connection_age_ms": config.maxConnectionAgeMs ?? maxConnectionAgeMs,
    });
    this.udsServer = new Server({ ...noChannelz });
    if (config.healthService !== false) {
      this.register(healthService({ dataStore: config.dataStore, trustDomain: config.trustDomain, log: this.log }), { tcp: false, uds: true });
    }
  }

  /** Serves a service (built with implement()) on the chosen listeners, behind authorization. */
  register(registration: ServiceRegistration, on: RegisterOn): void {
    if (on.tcp) this.add(this.tcpServer, secureRegistration(registration, "tcp", this.deps));
    if (on.uds) this.add(this.udsServer, secureRegistration(registration, "uds", this.deps));
  }

  /** The TCP port actually bound (useful with bindPort 0). */
  get tcpPort(): number {
    return this.boundTcpPort;
  }

  /** Binds the local socket, then the TCP listener. Fails if either cannot be bound. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("endpoints already started");
    this.state = "started";
    const { socketPath } = this.config;
    await prepareLocalSocket(socketPath);
    await new Promise<void>((resolve, reject) =>
      this.udsServer.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    await restrictLocalSocket(socketPath);
    this.log.info("Starting Server APIs", { network: "unix", address: socketPath });

    const injector = this.tcpServer.createConnectionInjector(ServerCredentials.createInsecure());
    const listener = createTlsListener({
      svid: this.config.svid,
      registry: this.connections,
      onConnection: (socket) => {
        this.sockets.add(socket);
        socket.once("close", () => this.sockets.delete(socket));
        injector.injectConnection(socket);
      },
      onError: (msg, err) => this.log.error(msg, { error: err instanceof Error ? err.message : String(err) }),
    });
    this.tlsListener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(this.config.bindPort, this.config.bindAddress, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    const address = listener.address();
    this.boundTcpPort = typeof address === "object" && address ? address.port : 0;
    this.log.info("Starting Server APIs", { network: "tcp", address: `${this.config.bindAddress}:${this.boundTcpPort}` });
  }

  /**
   * Stops accepting, lets running calls finish, and after the grace period
   * (10 s, as SPIRE) cuts whatever is left.
   */
  async stop(): Promise<void> {
    if (this.state !== "started") {
      this.state = "stopped";
      return;
    }
    this.state = "stopped";
    this.log.info("Stopping Server APIs");
    this.tlsListener?.close();
    const graceful = Promise.all([shutdown(this.tcpServer), shutdown(this.udsServer)]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.config.gracefulStopTimeoutMs ?? gracefulStopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.info("Graceful stop unsuccessful, forced stop");
      this.tcpServer.forceShutdown();
      this.udsServer.forceShutdown();
    }
    for (const socket of this.sockets) socket.destroy();
    this.log.info("Server APIs have stopped");
  }

  private add(server: Server, registration: ServiceRegistration): void {
    server.addService(registration.definition as never, registration.implementation);
  }
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}
