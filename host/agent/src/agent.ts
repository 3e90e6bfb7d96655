/**
 * signet-agent's composition root: config → plugins → trust bootstrap →
 * node attestation (or the stored SVID) → manager (sync, SVIDs) and agent
 * SVID rotation → Workload API on the public socket → health; the reverse
 * order on stop. PermissionDenied details from the server drive what the
 * agent does next, as the stock agent: re-attest, or drop its SVID and stop.
 */
import { X509Certificate, createPublicKey } from "node:crypto";
import type { Catalog, Clock, LevelledLogger, Logger } from "@signet/host-common";
import { catalogFromConfig, configDir, HealthListener, metricsHostService, permissionDeniedReason, processLogger, systemClock } from "@signet/host-common";
import { type CallContext, Code, RpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { PermissionDeniedDetails_Reason } from "@signet/proto/spire/api/types/status";
import { attestNode, type NodeAttestor } from "./attestor/node/attest.js";
import { loadBootstrapBundle } from "./attestor/node/bootstrap.js";
import { attestWorkload, ConnectionSelectors } from "./attestor/workload/index.js";
import { ServerClient } from "./client/client.js";
import type { AgentConfig } from "./config/agent-config.js";
import { attestCaller, type PeerProcess } from "./endpoints/peer/index.js";
import { peerTrackerMissing, publicSocketMode, startUdsServer, type UdsServer } from "./endpoints/uds/index.js";
import { debugService } from "./api/debug/v1/service.js";
import { loggerService } from "./api/logger/v1/service.js";
import { healthService } from "./health.js";
import { AgentCache } from "./manager/cache.js";
import { Manager } from "./manager/manager.js";
import { agentPlugins } from "./plugins.js";
import { svidKeyPolicy } from "./storage/svid-key-policy.js";
import { AgentStorage, type StoredSvid } from "./storage/storage.js";
import { AgentSvid } from "./svid/agent-svid.js";
import { workloadApiService } from "./workloadapi/service.js";

export const agentVersion = "1.15.3-signet";

export interface StartOptions {
  readonly log?: LevelledLogger;
  readonly clock?: Clock;
  /** Deadline for the workload attestors of one call (ms). */
  readonly workloadAttestationTimeoutMs?: number;
  /** How long a connection's attestation serves further calls on it (ms; 0 attests every call). */
  readonly connectionSelectorsMaxAgeMs?: number;
}

export interface RunningAgent {
  readonly config: AgentConfig;
  readonly log: LevelledLogger;
  readonly cache: AgentCache;
  readonly manager: Manager;
  readonly svid: AgentSvid;
  /** Resolves once stopped; `error` is set when the agent stopped itself (banned, must re-attest). */
  readonly stopped: Promise<{ error?: string }>;
  stop(reason?: string): Promise<void>;
}

type Stopper = { readonly name: string; stop(): Promise<void> | void };

export class AgentError extends Error {}

export async function startAgent(config: AgentConfig, options: StartOptions = {}): Promise<RunningAgent> {
  const log = options.log ?? agentLogger(config);
  const clock = options.clock ?? systemClock;
  const startedAt = Date.now();
  const stoppers: Stopper[] = [];
  let stopping: Promise<void> | undefined;
  let resolveStopped!: (r: { error?: string }) => void;
  const stopped = new Promise<{ error?: string }>((r) => (resolveStopped = r));
  /** Runs after every component stopped (dropping the SVID must not race a rotation storing one). */
  const afterStop: (() => Promise<void>)[] = [];
  const stop = (reason?: string): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stoppers.reverse()) {
        try {
          await s.stop();
        } catch (e) {
          log.error("Failed to stop component", { component: s.name, error: messageOf(e) });
        }
      }
      for (const f of afterStop) await f().catch((e: unknown) => log.error("Failed to clean up", { error: messageOf(e) }));
      log.info("Agent stopped", reason ? { reason } : {});
      resolveStopped(reason ? { error: reason } : {});
    })();
    return stopping;
  };

  try {
    log.info("Starting agent", { trust_domain: config.trustDomain.name, data_dir: config.dataDir, config: config.path || undefined });
    for (const key of config.ignoredKeys) log.warn("Configuration key is accepted for compatibility but not acted on", { key });

    const catalog: Catalog = await catalogFromConfig(config.plugins, {
      side: "agent",
      trustDomain: config.trustDomain.name,
      log,
      // As SPIRE's agent: Metrics is the one host service agent plugins are offered.
      hostServices: (plugin) => [metricsHostService(plugin, log)],
      ...(config.source !== undefined ? { source: config.source } : {}),
      ...(config.path ? { cwd: configDir(config.path) } : {}),
    });
    stoppers.push({ name: "catalog", stop: () => catalog.close() });
    const plugins = agentPlugins(catalog);
    const keyPolicy = svidKeyPolicy(plugins.keyManagerName);
    if (keyPolicy.warning) log.warn(keyPolicy.warning, { plugin: plugins.keyManagerName });
    const storage = new AgentStorage(config.dataDir, keyPolicy.persist);
    const address = `${config.serverAddress}:${config.serverPort}`;

    let nodeAttestor: NodeAttestor;
    if (config.joinToken !== undefined) nodeAttestor = { kind: "join_token", token: config.joinToken };
    else if (plugins.nodeAttestor) nodeAttestor = { kind: "plugin", plugin: plugins.nodeAttestor };
    else throw new AgentError("join token is required by the join_token node attestor (set join_token, join_token_file or -joinToken)");

    // Trust: the cached bundle first, else the configured bootstrap source.
    let bundle: Bundle | undefined = await storage.loadBundle();
    if (!bundle) bundle = await loadBootstrapBundle(config.trustBundle, config.trustDomain.name);
    const rootsOf = (b: Bundle | undefined) => (b ? b.x509Authorities.map((a) => a.asn1) : []);

    const attest = async () => {
      const attested = await attestWithRetry(() => attestNode({ trustDomain: config.trustDomain, address, roots: rootsOf(cache.ownBundle ?? bundle), attestor: nodeAttestor }), clock, log);
      await storage.storeSvid(attested.svid);
      await storage.storeBundle(attested.bundle);
      bundle = attested.bundle;
      log.info("Node attestation was successful", { spiffe_id: spiffeIdOfCert(attested.svid.chain[0]!), reattestable: attested.svid.reattestable });
      return attested.svid;
    };

    const cache = new AgentCache();
    let initial = usableStoredSvid(await storage.loadSvid(), clock.now().getTime());
    if (initial) log.info("Using the agent SVID from data_dir", { spiffe_id: spiffeIdOfCert(initial.chain[0]!) });
    else initial = await attest();

    const client: ServerClient = new ServerClient({
      trustDomain: config.trustDomain,
      address,
      roots: () => rootsOf(cache.ownBundle ?? bundle),
      identity: () => svid.current(),
    });
    stoppers.push({ name: "server-client", stop: () => client.release() });

    /** What the agent does about a failed server call; true: keep going (retry later). */
    const react = async (err: unknown): Promise<boolean> => {
      if (!(err instanceof RpcError) || err.code !== Code.PERMISSION_DENIED) return true;
      const reason = permissionDeniedReason(err.metadata);
      if (reason === undefined || reason === PermissionDeniedDetails_Reason.UNKNOWN) return true;
      if (reason === PermissionDeniedDetails_Reason.AGENT_BANNED) {
        log.error("Agent is banned: removing its SVID and shutting down");
        afterStop.push(() => storage.deleteSvid());
        void stop("agent is banned");
        return false;
      }
      if (svid.current().reattestable) {
        log.warn("Server requires re-attestation", { reason: PermissionDeniedDetails_Reason[reason] });
        try {
          await svid.rotate();
        } catch (e) {
          log.error("Re-attestation failed", { error: messageOf(e) });
        }
        return true;
      }
      log.error("Agent SVID is no longer accepted and the agent cannot re-attest: removing it and shutting down; restart to attest afresh", { reason: PermissionDeniedDetails_Reason[reason] });
      afterStop.push(() => storage.deleteSvid());
      void stop(`agent SVID rejected (${PermissionDeniedDetails_Reason[reason]})`);
      return false;
    };

    const svid: AgentSvid = new AgentSvid(initial, {
      clock,
      log: log.with({ subsystem_name: "svid_rotator" }),
      storage,
      reattest: async () => attest(),
      renew: async (csr): Promise<readonly Buffer[]> => (await client.renewAgent(csr)).certChain,
      onRotated: () => client.release(),
      onError: react,
      ...(config.availabilityTargetMs !== undefined ? { availabilityTargetMs: config.availabilityTargetMs } : {}),
    });

    const manager = new Manager({
      client,
      cache,
      clock,
      log: log.with({ subsystem_name: "manager" }),
      trustDomain: config.trustDomain.name,
      keyType: config.workloadKeyType,
      syncIntervalMs: config.syncIntervalMs,
      x509SvidCacheMaxSize: config.x509SvidCacheMaxSize,
      disableX509SvidPrefetch: config.disableX509SvidPrefetch,
      jwtSvidCacheMaxSize: config.jwtSvidCacheMaxSize,
      jwtSvidCacheHitTimeoutMs: config.jwtSvidCacheHitTimeoutMs,
      ...(config.availabilityTargetMs !== undefined ? { availabilityTargetMs: config.availabilityTargetMs } : {}),
      onAgentSvidTainted: (tainted) => {
        const chain = svid.current().chain.map((d) => new X509Certificate(d));
        if (chain.some((c) => tainted.some((t) => c.checkIssued(t)))) svid.forceRotation();
      },
      onSyncError: react,
    });

    await client.postStatus(agentVersion).catch((e: unknown) => log.warn("PostStatus failed", { error: messageOf(e) }));
    try {
      await manager.synchronize();
    } catch (e) {
      const reason = e instanceof RpcError ? permissionDeniedReason(e.metadata) : undefined;
      if (reason !== undefined && reason !== PermissionDeniedDetails_Reason.UNKNOWN) {
        // SPIRE during initialisation: drop the SVID and fail; the next start attests afresh.
        await storage.deleteSvid();
        throw new AgentError(`initial sync was refused (${PermissionDeniedDetails_Reason[reason]}); the stored agent SVID was removed, restart to attest again`);
      }
      throw e;
    }
    const own = cache.ownBundle;
    if (own) await storage.storeBundle(own);
    log.info("Initial sync complete", { entries: cache.entryMap.size, svids: cache.svidCount });
    svid.start();
    stoppers.push({ name: "svid-rotator", stop: () => svid.stop() });
    manager.start();
    stoppers.push({ name: "manager", stop: () => manager.stop() });

    const problem = (): string | undefined => {
      if (stopping) return "agent is stopping";
      const now = clock.now().getTime();
      if (svid.current().validity.notAfter <= now) return "agent SVID has expired";
      const age = now - manager.lastSyncSuccess;
      if (age > Math.max(60_000, 12 * config.syncIntervalMs)) return `last successful sync was ${Math.round(age / 1000)}s ago`;
      return undefined;
    };

    if (!config.disableWorkloadApi) {
      let uds: UdsServer | undefined;
      const attestorLog = log.with({ subsystem_name: "workload_attestor" });
      const connectionSelectors = new ConnectionSelectors<PeerProcess>(options.connectionSelectorsMaxAgeMs ?? 1_000);
      const selectorsOf = (peer: PeerProcess, signal?: AbortSignal) =>
        connectionSelectors.selectorsOf(peer, () =>
          attestWorkload(peer.pid, plugins.workloadAttestors, { deadlineMs: options.workloadAttestationTimeoutMs ?? 5_000, log: attestorLog, ...(signal ? { signal } : {}) }),
        );
      const callerSelectors = async (ctx: CallContext) => {
        const peer = uds?.tracker.connectionOf(ctx);
        if (!peer) throw new RpcError(Code.INTERNAL, peerTrackerMissing);
        try {
          return await attestCaller(peer, () => selectorsOf(peer));
        } catch (e) {
          if (e instanceof RpcError && e.code === Code.UNAUTHENTICATED) throw e;
          if (ctx.signal.aborted) throw new RpcError(Code.CANCELLED, "context canceled");
          log.warn("Workload attestation failed", { pid: peer.pid, error: messageOf(e) });
          throw new RpcError(Code.UNAVAILABLE, "workload attestation failed");
        }
      };
      uds = await startUdsServer({
        path: config.socketPath,
        mode: publicSocketMode,
        // The plugins start on the caller while its client is still setting up HTTP/2; its first call takes
        // these selectors (they are the connection's, as later calls' within connectionSelectors' max age).
        // A connection closed before the plugins answer stops its attestation.
        onConnection: (peer, closed) => void selectorsOf(peer, closed).catch(() => {}),
        services: [
          workloadApiService({
            cache,
            attestCaller: callerSelectors,
            fetchJwtSvid: (entry, audience) => manager.fetchJwtSvid(entry, audience),
            trustDomain: config.trustDomain.name,
            allowUnauthenticatedVerifiers: config.allowUnauthenticatedVerifiers,
            allowedForeignJwtClaims: config.allowedForeignJwtClaims,
          }),
          healthService({ problem }),
        ],
        log: log.with({ subsystem_name: "endpoints" }),
      });
      const server = uds;
      stoppers.push({ name: "workload-api", stop: () => server.close() });
      log.info("Starting Workload and SDS APIs", { address: config.socketPath });
    }

    if (config.adminSocketPath !== undefined) {
      // Filesystem permissions guard this socket (SPIRE's admin API): Debug, Logger and Health.
      const admin = await startUdsServer({
        path: config.adminSocketPath,
        mode: 0o770,
        services: [
          debugService({
            svidChain: () => svid.current().chain,
            uptimeSeconds: () => Math.floor((Date.now() - startedAt) / 1000),
            lastSyncSuccess: () => manager.lastSyncSuccess,
            cachedX509Svids: () => cache.svidCount,
            cachedJwtSvids: () => manager.jwtSvidCount,
          }),
          loggerService({ log }),
          healthService({ problem }),
        ],
        log: log.with({ subsystem_name: "endpoints" }),
      });
      stoppers.push({ name: "admin-api", stop: () => admin.close() });
      log.info("Starting admin API", { address: config.adminSocketPath });
    }

    if (config.healthChecks.listenerEnabled) {
      const h = config.healthChecks;
      const health = new HealthListener(h, {
        live: () => ({ ok: stopping === undefined }),
        ready: () => {
          const why = problem();
          return { ok: why === undefined, details: { attested: true, last_sync_success: new Date(manager.lastSyncSuccess).toISOString(), ...(why ? { reason: why } : {}) } };
        },
      });
      await health.start();
      stoppers.push({ name: "health-listener", stop: () => health.stop() });
      log.info("Serving health checks", { address: `${h.bindAddress}:${health.port}`, live_path: h.livePath, ready_path: h.readyPath });
    }

    log.info("Agent is ready", { socket_path: config.socketPath, spiffe_id: spiffeIdOfCert(svid.current().chain[0]!) });
    return { config, log, cache, manager, svid, stopped, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The stored SVID if it can be used: a key that matches, not expired (1 s skew). */
function usableStoredSvid(stored: StoredSvid | undefined, now: number): (StoredSvid & { privateKey: NonNullable<StoredSvid["privateKey"]> }) | undefined {
  if (!stored?.privateKey || stored.chain.length === 0) return undefined;
  try {
    const leaf = new X509Certificate(stored.chain[0]!);
    if (Date.parse(leaf.validTo) <= now + 1_000) return undefined;
    if (!leaf.publicKey.equals(createPublicKey(stored.privateKey))) return undefined;
  } catch {
    return undefined;
  }
  return { ...stored, privateKey: stored.privateKey };
}

/** SPIRE retries attestation with exponential backoff from 5 s for up to 1 min, then gives up. */
async function attestWithRetry<T>(attempt: () => Promise<T>, clock: Clock, log: Logger): Promise<T> {
  const deadline = clock.now().getTime() + 60_000;
  let delay = 5_000;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      // A refusal by the server is final; only transport trouble is retried.
      const retriable = e instanceof RpcError && (e.code === Code.UNAVAILABLE || e.code === Code.DEADLINE_EXCEEDED);
      if (!retriable || clock.now().getTime() + delay > deadline) throw new AgentError(`failed to attest: ${messageOf(e)}`);
      log.warn("Node attestation failed; retrying", { error: messageOf(e), retry_in_ms: delay });
      await clock.sleep(delay, new AbortController().signal);
      delay *= 2;
    }
  }
}

function spiffeIdOfCert(der: Buffer): string {
  return new X509Certificate(der).subjectAltName?.replace(/^URI:/, "") ?? "";
}

/** The process logger from log_level / log_format / log_file. */
export function agentLogger(config: AgentConfig): LevelledLogger {
  return processLogger(config);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `signet-agent run`: start, then serve until SIGTERM or SIGINT (or until
 * the agent stops itself), then stop gracefully.
 */
export async function runAgent(config: AgentConfig, options: StartOptions = {}): Promise<{ error?: string }> {
  const agent = await startAgent(config, options);
  const onSignal = (signal: NodeJS.Signals) => {
    agent.log.info("Received signal; stopping", { signal });
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    const again = () => process.exit(1);
    process.once("SIGTERM", again).once("SIGINT", again);
    void agent.stop();
  };
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  const result = await agent.stopped;
  process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
  return result;
}
