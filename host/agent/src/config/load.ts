/**
 * agent.conf → AgentConfig: read (with -expandEnv), apply command-line
 * overrides, decode against SPIRE's schema, then the cross-key checks SPIRE
 * makes at start-up (trust domain, bootstrap source, join token, sockets).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Infer } from "@signet/config";
import { ConfigError, decode } from "@signet/config";
import { applyFlagOverrides, healthChecksConfig, loadConfigFile } from "@signet/host-common";
import { TrustDomain, TrustDomainError } from "@signet/spiffe";
import type { AgentConfig, AgentFlagOverrides, LoadOptions, TrustBundleSource, WorkloadKeyType } from "./agent-config.js";
import { agentFile } from "./schema.js";

export async function loadAgentConfig(path: string, options: LoadOptions = {}): Promise<AgentConfig> {
  const loaded = await loadConfigFile(path, {
    ...(options.expandEnv !== undefined ? { expandEnv: options.expandEnv } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const tree = applyFlagOverrides(loaded.tree, "agent", flagKeys(options.flags ?? {}));
  const file = decode(agentFile, tree, { source: loaded.source });
  return agentConfigFromFile(file, { path, source: loaded.source });
}

/** Builds the config from an already decoded file (also used by tests and the quickstart). */
export function agentConfigFromFile(file: Infer<typeof agentFile>, origin: { path: string; source?: AgentConfig["source"] }): AgentConfig {
  const a = file.agent;
  let trustDomain: TrustDomain;
  try {
    trustDomain = TrustDomain.parse(a.trust_domain);
  } catch (e) {
    const why = e instanceof TrustDomainError ? e.message : String(e);
    throw new ConfigError({ path: "agent.trust_domain", detail: `could not parse trust_domain ${JSON.stringify(a.trust_domain)}: ${why}` });
  }
  if (a.server_address.trim() === "") throw new ConfigError({ path: "agent.server_address", detail: "must be set" });
  const relativeTo = origin.path ? dirname(origin.path) : process.cwd();
  const trustBundle = trustBundleSource(a);
  const joinToken = joinTokenOf(a, relativeTo);
  if (a.admin_socket_path !== undefined && isWithin(a.admin_socket_path, dirname(a.socket_path))) {
    throw new ConfigError({ path: "agent.admin_socket_path", detail: "admin socket cannot be in the same directory or a subdirectory as that containing the Workload API socket" });
  }
  const exp = a.experimental;
  const cacheHitTimeout = exp?.jwt_svid_cache_hit_timeout ?? 30_000;
  if (cacheHitTimeout < 5_000 || cacheHitTimeout > 30_000) {
    throw new ConfigError({ path: "agent.experimental.jwt_svid_cache_hit_timeout", detail: "must be between 5s and 30s" });
  }
  const syncInterval = exp?.sync_interval ?? 5_000;
  if (syncInterval <= 0) throw new ConfigError({ path: "agent.experimental.sync_interval", detail: "must be positive" });
  if (a.availability_target !== undefined && a.availability_target < 24 * 3600_000) {
    throw new ConfigError({ path: "agent.availability_target", detail: "must be at least 24h" });
  }

  const ignoredKeys: string[] = [];
  if (a.trust_bundle_spiffe_workload_api !== undefined) ignoredKeys.push("agent.trust_bundle_spiffe_workload_api");
  if (a.rebootstrap_mode !== "never") ignoredKeys.push("agent.rebootstrap_mode");
  if (a.authorized_delegates.length > 0) ignoredKeys.push("agent.authorized_delegates");
  if (!a.disable_sds_api && a.sds !== undefined) ignoredKeys.push("agent.sds");
  if (a.profiling_enabled) ignoredKeys.push("agent.profiling_enabled");
  if (exp?.broker !== undefined) ignoredKeys.push("agent.experimental.broker");
  if (exp?.ratelimit !== undefined) ignoredKeys.push("agent.experimental.ratelimit");

  return {
    path: origin.path,
    trustDomain,
    serverAddress: a.server_address,
    serverPort: a.server_port,
    dataDir: resolve(relativeTo, a.data_dir),
    socketPath: a.socket_path,
    ...(a.admin_socket_path !== undefined ? { adminSocketPath: a.admin_socket_path } : {}),
    trustBundle,
    ...(joinToken !== undefined ? { joinToken } : {}),
    allowUnauthenticatedVerifiers: a.allow_unauthenticated_verifiers,
    allowedForeignJwtClaims: a.allowed_foreign_jwt_claims,
    disableWorkloadApi: a.disable_workload_api,
    workloadKeyType: a.workload_x509_svid_key_type as WorkloadKeyType,
    ...(a.availability_target !== undefined ? { availabilityTargetMs: a.availability_target } : {}),
    x509SvidCacheMaxSize: a.x509_svid_cache_max_size,
    jwtSvidCacheMaxSize: a.jwt_svid_cache_max_size,
    disableX509SvidPrefetch: a.disable_x509_svid_prefetch,
    syncIntervalMs: syncInterval,
    jwtSvidCacheHitTimeoutMs: cacheHitTimeout,
    logLevel: a.log_level.toUpperCase(),
    logFormat: a.log_format.toLowerCase() as "text" | "json",
    ...(a.log_file !== undefined && a.log_file !== "" ? { logFile: a.log_file } : {}),
    healthChecks: healthChecksConfig(file.health_checks),
    ...(file.plugins !== undefined ? { plugins: file.plugins } : {}),
    ...(origin.source !== undefined ? { source: origin.source } : {}),
    ignoredKeys,
  };
}

type AgentSection = Infer<typeof agentFile>["agent"];

/** SPIRE's rules: at most one of path and URL; insecure_bootstrap excludes both. */
function trustBundleSource(a: AgentSection): TrustBundleSource {
  const path = a.trust_bundle_path ?? "";
  const url = a.trust_bundle_url ?? "";
  if (path !== "" && url !== "") {
    throw new ConfigError({ path: "agent.trust_bundle_path", detail: "only one of trust_bundle_url or trust_bundle_path can be specified, not both" });
  }
  if (a.insecure_bootstrap && (path !== "" || url !== "")) {
    throw new ConfigError({ path: "agent.insecure_bootstrap", detail: "only one of insecure_bootstrap, trust_bundle_url, or trust_bundle_path can be specified" });
  }
  const format = a.trust_bundle_format as "pem" | "spiffe";
  if (path !== "") return { kind: "path", path, format };
  if (url !== "") {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError({ path: "agent.trust_bundle_url", detail: `invalid URL ${JSON.stringify(url)}` });
    }
    const unixSocket = a.trust_bundle_unix_socket;
    if (unixSocket === undefined && parsed.protocol !== "https:") {
      throw new ConfigError({ path: "agent.trust_bundle_url", detail: "trust bundle URL must start with https://" });
    }
    if (unixSocket !== undefined && parsed.protocol !== "http:") {
      throw new ConfigError({ path: "agent.trust_bundle_url", detail: "trust bundle URL must start with http:// when used with trust bundle unix socket" });
    }
    return { kind: "url", url, format, ...(unixSocket !== undefined ? { unixSocket } : {}) };
  }
  if (a.trust_bundle_unix_socket !== undefined) {
    throw new ConfigError({ path: "agent.trust_bundle_unix_socket", detail: "trust_bundle_unix_socket requires trust_bundle_url" });
  }
  return a.insecure_bootstrap ? { kind: "insecure" } : { kind: "none" };
}

function joinTokenOf(a: AgentSection, relativeTo: string): string | undefined {
  if (a.join_token !== undefined && a.join_token !== "" && a.join_token_file !== undefined && a.join_token_file !== "") {
    throw new ConfigError({ path: "agent.join_token", detail: "only one of join_token or join_token_file can be specified, not both" });
  }
  if (a.join_token_file !== undefined && a.join_token_file !== "") {
    let text: string;
    try {
      text = readFileSync(resolve(relativeTo, a.join_token_file), "utf8");
    } catch (e) {
      throw new ConfigError({ path: "agent.join_token_file", detail: `unable to read join token file: ${(e as Error).message}` });
    }
    const token = text.trim();
    if (token === "") throw new ConfigError({ path: "agent.join_token_file", detail: "join token file is empty" });
    return token;
  }
  return a.join_token !== undefined && a.join_token !== "" ? a.join_token : undefined;
}

function isWithin(path: string, dir: string): boolean {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p.startsWith(`${d}/`);
}

function flagKeys(flags: AgentFlagOverrides) {
  return {
    server_address: flags.serverAddress,
    server_port: flags.serverPort,
    trust_domain: flags.trustDomain,
    trust_bundle_path: flags.trustBundle,
    trust_bundle_url: flags.trustBundleUrl,
    join_token: flags.joinToken,
    join_token_file: flags.joinTokenFile,
    socket_path: flags.socketPath,
    data_dir: flags.dataDir,
    log_file: flags.logFile,
    log_format: flags.logFormat,
    log_level: flags.logLevel,
    allow_unauthenticated_verifiers: flags.allowUnauthenticatedVerifiers,
    disable_workload_api: flags.disableWorkloadApi,
    trust_bundle_format: flags.trustBundleFormat,
    insecure_bootstrap: flags.insecureBootstrap,
    rebootstrap_mode: flags.rebootstrapMode,
    rebootstrap_delay: flags.rebootstrapDelay,
  };
}
