/**
 * signet-server's composition root: config → plugins → CA → caches → APIs
 * on the endpoints, and the reverse order on stop. Every long-lived loop
 * created here (CA rotator, server SVID rotator, entry cache, housekeeping)
 * is stopped by `stop()`, after the endpoints have drained, so no write is
 * cut off half way.
 */
import { availableParallelism } from "node:os";
import type { Catalog, LevelledLogger } from "@signet/host-common";
import { catalogFromConfig, configDir, HealthListener, processLogger, settleMemory } from "@signet/host-common";
import type { ServiceRegistration } from "@signet/proto";
import { agentService } from "./api/agent/v1/service.js";
import { bundleService } from "./api/bundle/v1/service.js";
import { debugService } from "./api/debug/v1/service.js";
import { entryService } from "./api/entry/v1/service.js";
import { localAuthorityService } from "./api/localauthority/v1/service.js";
import { loggerService } from "./api/logger/v1/service.js";
import { inlineCsrVerifier } from "./api/svid/v1/csr-verifier.js";
import { workerCsrVerifier } from "./api/svid/v1/csr-worker-pool.js";
import { svidService } from "./api/svid/v1/service.js";
import { trustDomainService } from "./api/trustdomain/v1/service.js";
import { EntryCache } from "./authorizedentries/entry-cache.js";
import { Ca } from "./ca/ca.js";
import { systemClock, type Clock } from "./ca/clock.js";
import { dataStoreBundleStore, dataStoreJournalStore } from "./ca/datastore-adapters.js";
import { CaManager } from "./ca/manager.js";
import { CaRotator } from "./ca/rotator.js";
import { keyManagerCaSigner } from "./ca/signer.js";
import type { ServerConfig } from "./config/server-config.js";
import { Housekeeping } from "./datastore/housekeeping.js";
import { startFederation } from "./federation/federation.js";
import { ServerHostServices } from "./hostservices/index.js";
import { serverPlugins, type ServerPlugins } from "./plugins.js";
import { ServerSvidRotator } from "./svid/rotator.js";
import { upstreamAuthorityOf } from "./upstream.js";
import { Endpoints } from "./endpoints/index.js";

export interface StartOptions {
  /** Defaults to a logger built from the config (level, format, file). */
  readonly log?: LevelledLogger;
  readonly clock?: Clock;
}

export interface RunningServer {
  readonly config: ServerConfig;
  readonly log: LevelledLogger;
  /** The TCP API port actually bound (bind_port 0 picks one). */
  readonly tcpPort: number;
  /** The federation bundle endpoint's bound port, when `federation.bundle_endpoint` is set. */
  readonly bundleEndpointPort?: number;
  /** Resolves once stop() has finished. */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

/** A component stop() must end, newest first. */
type Stopper = { readonly name: string; stop(): Promise<void> | void };

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? serverLogger(config);
  const clock = options.clock ?? systemClock;
  const startedAt = Date.now();
  const stoppers: Stopper[] = [];
  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stoppers.reverse()) {
        try {
          await s.stop();
        } catch (e) {
          log.error("Failed to stop component", { component: s.name, error: errorText(e) });
        }
      }
      log.info("Server stopped");
      resolveStopped();
    })();
    return stopping;
  };

  try {
    log.info("Starting server", { trust_domain: config.trustDomain.name, config: config.path || undefined });
    for (const key of config.ignoredKeys) log.warn("Configuration key is accepted for compatibility but not acted on", { key });
    for (const warning of config.federation.warnings) log.warn(warning);

    const hostServices = new ServerHostServices(config.trustDomain.name, log);
    const catalog: Catalog = await catalogFromConfig(config.plugins, {
      side: "server",
      trustDomain: config.trustDomain.name,
      log,
      hostServices: hostServices.forPlugin,
      ...(config.source !== undefined ? { source: config.source } : {}),
      ...(config.path ? { cwd: configDir(config.path) } : {}),
    });
    stoppers.push({ name: "catalog", stop: () => catalog.close() });
    const plugins = serverPlugins(catalog, log);

    const { ca, manager, rotator } = await startCa(config, plugins, clock, log);
    stoppers.push({ name: "ca-rotator", stop: () => rotator.stop() });

    const svid = new ServerSvidRotator({ ca, keyType: config.caKeyType, clock, log: log.with({ subsystem_name: "svid_rotator" }) });
    await svid.initialize();
    svid.start();
    hostServices.bind({ dataStore: plugins.dataStore, serverSvid: svid });
    stoppers.push({ name: "server-svid-rotator", stop: () => svid.stop() });

    const entries = new EntryCache({
      dataStore: plugins.dataStore,
      trustDomain: config.trustDomain.name,
      logger: log.with({ subsystem_name: "entry_cache" }),
      afterLoad: settleMemory,
    });
    const cacheLoad = Date.now();
    await entries.start();
    stoppers.push({ name: "entry-cache", stop: () => entries.stop() });
    log.info("Entry cache loaded", { elapsed_ms: Date.now() - cacheLoad });

    const housekeeping = new Housekeeping({
      dataStore: plugins.dataStore,
      log: log.with({ subsystem_name: "housekeeping" }),
      pruneEventsOlderThanSeconds: config.pruneEventsOlderThanSeconds,
    });
    housekeeping.start();
    stoppers.push({ name: "housekeeping", stop: () => housekeeping.stop() });

    const federation = await startFederation({
      config: config.federation,
      trustDomain: config.trustDomain,
      dataStore: plugins.dataStore,
      svid,
      clock,
      log,
    });
    stoppers.push({ name: "federation", stop: () => federation.stop() });

    const bundleStore = dataStoreBundleStore(plugins.dataStore, config.trustDomain);
    // BatchNewX509SVID's CSR signature checks are the API's largest CPU cost:
    // with a second core, a worker thread takes a share of each batch
    // (bench/svid-batch: ~1.5x the calls' throughput on 2 cores).
    const csrVerifier = availableParallelism() > 1 ? workerCsrVerifier() : inlineCsrVerifier();
    stoppers.push({ name: "csr-verifier", stop: () => csrVerifier.close() });
    const services = {
      agent: agentService({
        trustDomain: config.trustDomain,
        dataStore: plugins.dataStore,
        ca,
        nodeAttestor: (name) => plugins.nodeAttestors.get(name),
        log: log.with({ subsystem_name: "api", service: "agent.v1.Agent" }),
        agentIdAsSelector: config.agentIdAsSelector,
      }),
      bundle: bundleService({
        dataStore: plugins.dataStore,
        trustDomain: config.trustDomain,
        publishJwtKey: (key) => manager.publishJwtAuthority(key),
      }),
      entry: entryService({ dataStore: plugins.dataStore, authorizedEntries: entries, trustDomain: config.trustDomain }),
      svid: svidService({
        trustDomain: config.trustDomain,
        ca,
        authorizedEntries: entries,
        dataStore: plugins.dataStore,
        log: log.with({ subsystem_name: "api", service: "svid.v1.SVID" }),
        jwtSvidsDisabled: config.disableJwtSvids,
        csrVerifier,
      }),
      trustDomain: trustDomainService({
        dataStore: plugins.dataStore,
        trustDomain: config.trustDomain,
        bundleRefresher: federation.bundleManager,
      }),
      localAuthority: localAuthorityService({ manager, bundle: bundleStore, log }),
      debug: debugService({
        trustDomain: config.trustDomain,
        dataStore: plugins.dataStore,
        serverSvid: () => svid.current().certChain,
        uptime: () => Math.floor((Date.now() - startedAt) / 1000),
      }),
      logger: loggerService({ log }),
    } satisfies Record<string, ServiceRegistration>;

    const endpoints = new Endpoints({
      trustDomain: config.trustDomain,
      bindAddress: config.bindAddress,
      bindPort: config.bindPort,
      socketPath: config.socketPath,
      adminIds: config.adminIds,
      rateLimit: config.rateLimit,
      svid,
      dataStore: plugins.dataStore,
      authorizedEntries: entries,
      log: log.with({ subsystem_name: "endpoints" }),
    });
    // SPIRE serves these on both listeners; Logger, Debug and Health only on the local socket.
    for (const name of ["agent", "bundle", "entry", "svid", "trustDomain", "localAuthority"] as const) {
      endpoints.register(services[name], { tcp: true, uds: true });
    }
    endpoints.register(services.debug, { tcp: false, uds: true });
    endpoints.register(services.logger, { tcp: false, uds: true });
    await endpoints.start();
    stoppers.push({ name: "endpoints", stop: () => endpoints.stop() });

    if (config.healthChecks.listenerEnabled) {
      const h = config.healthChecks;
      const health = new HealthListener(h, {
        live: () => ({ ok: stopping === undefined }),
        ready: async () => {
          // SPIRE's readiness: the server's own bundle is in the datastore.
          const res = await plugins.dataStore.fetchBundle({ trustDomain: config.trustDomain.name });
          const ok = stopping === undefined && res.bundle !== undefined;
          return { ok, details: { bundle: res.bundle !== undefined, entry_cache: entries.ready } };
        },
      });
      await health.start();
      stoppers.push({ name: "health-listener", stop: () => health.stop() });
      log.info("Serving health checks", { address: `${h.bindAddress}:${health.port}`, live_path: h.livePath, ready_path: h.readyPath });
    }

    log.info("Server is ready", {
      address: `${config.bindAddress}:${endpoints.tcpPort}`,
      socket_path: config.socketPath,
      startup_ms: Date.now() - startedAt,
    });
    return {
      config,
      log,
      tcpPort: endpoints.tcpPort,
      ...(federation.bundleEndpointPort !== undefined ? { bundleEndpointPort: federation.bundleEndpointPort } : {}),
      stopped,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function startCa(config: ServerConfig, plugins: ServerPlugins, clock: Clock, log: LevelledLogger) {
  const bundleStore = dataStoreBundleStore(plugins.dataStore, config.trustDomain);
  const signer = keyManagerCaSigner(plugins.keyManager);
  const ca = new Ca({
    trustDomain: config.trustDomain,
    signer,
    clock,
    x509SvidTtlSeconds: config.defaultX509SvidTtlSeconds,
    agentTtlSeconds: config.agentTtlSeconds,
    jwtSvidTtlSeconds: config.defaultJwtSvidTtlSeconds,
    caTtlSeconds: config.caTtlSeconds,
    jwtIssuer: config.jwtIssuer,
    disableJwtSvids: config.disableJwtSvids,
    bundle: bundleStore,
  });
  const upstream = plugins.upstreamAuthority ? upstreamAuthorityOf(plugins.upstreamAuthority) : undefined;
  const manager = await CaManager.load({
    trustDomain: config.trustDomain,
    keyManager: plugins.keyManager,
    signer,
    journalStore: dataStoreJournalStore(plugins.dataStore),
    bundleStore,
    ca,
    ...(upstream ? { upstream } : {}),
    caKeyType: config.caKeyType,
    jwtKeyType: config.jwtKeyType,
    caTtlSeconds: config.caTtlSeconds,
    caSubject: { country: [...config.caSubject.country], organization: [...config.caSubject.organization], ...(config.caSubject.commonName ? { commonName: config.caSubject.commonName } : {}) },
    disableJwtSvids: config.disableJwtSvids,
    clock,
    log: log.with({ subsystem_name: "ca_manager" }),
  });
  const rotator = new CaRotator({ manager, clock, log: log.with({ subsystem_name: "ca_rotator" }) });
  await rotator.initialize();
  rotator.start();
  return { ca, manager, rotator };
}

/** The process logger from log_level / log_format / log_file. */
export function serverLogger(config: ServerConfig): LevelledLogger {
  return processLogger(config);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `signet-server run`: start, then serve until SIGTERM or SIGINT, then stop
 * gracefully (endpoints drain first, so in-flight writes complete). A
 * second signal while stopping exits at once.
 */
export async function runServer(config: ServerConfig, options: StartOptions = {}): Promise<void> {
  const server = await startServer(config, options);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      server.log.info("Received signal; stopping", { signal });
      process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
      const again = () => process.exit(1);
      process.once("SIGTERM", again).once("SIGINT", again);
      void server.stop().then(resolve);
    };
    process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  });
}
