/**
 * server.conf → ServerConfig: read (with -expandEnv), apply command-line
 * overrides, decode against SPIRE's schema, then the cross-key checks SPIRE
 * makes at start-up (trust domain, TTL relations, health port).
 */
import type { Infer } from "@signet/config";
import { ConfigError, decode } from "@signet/config";
import { applyFlagOverrides, healthChecksConfig, loadConfigFile } from "@signet/host-common";
import { TrustDomain, TrustDomainError } from "@signet/spiffe";
import { federationFromSection } from "../federation/config.js";
import { serverFile } from "./schema.js";
import type { KeyType, LoadOptions, ServerConfig, ServerFlagOverrides } from "./server-config.js";

export async function loadServerConfig(path: string, options: LoadOptions = {}): Promise<ServerConfig> {
  const loaded = await loadConfigFile(path, {
    ...(options.expandEnv !== undefined ? { expandEnv: options.expandEnv } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const tree = applyFlagOverrides(loaded.tree, "server", flagKeys(options.flags ?? {}));
  const file = decode(serverFile, tree, { source: loaded.source });
  return fromFile(file, { path, source: loaded.source });
}

/** Builds the config from an already decoded file (also used by tests and the quickstart). */
export function fromFile(file: Infer<typeof serverFile>, origin: { path: string; source?: ServerConfig["source"] }): ServerConfig {
  const s = file.server;
  let trustDomain: TrustDomain;
  try {
    trustDomain = TrustDomain.parse(s.trust_domain);
  } catch (e) {
    const why = e instanceof TrustDomainError ? e.message : String(e);
    throw new ConfigError({ path: "server.trust_domain", detail: `could not parse trust_domain ${JSON.stringify(s.trust_domain)}: ${why}` });
  }
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const x509SvidTtlMs = s.default_svid_ttl ?? s.default_x509_svid_ttl;
  const caTtl = seconds(s.ca_ttl);
  const x509Ttl = seconds(x509SvidTtlMs);
  if (caTtl <= 0) throw new ConfigError({ path: "server.ca_ttl", detail: "must be positive" });
  if (x509Ttl <= 0) throw new ConfigError({ path: "server.default_x509_svid_ttl", detail: "must be positive" });
  if (seconds(s.default_jwt_svid_ttl) <= 0) throw new ConfigError({ path: "server.default_jwt_svid_ttl", detail: "must be positive" });
  for (const id of s.admin_ids) {
    if (!id.startsWith("spiffe://")) throw new ConfigError({ path: "server.admin_ids", detail: `invalid admin SPIFFE ID ${JSON.stringify(id)}` });
  }
  const federation = federationFromSection(s.federation, origin.source);
  const ignoredKeys: string[] = [];
  if (s.proxy_protocol_trusted_cidrs.length > 0) ignoredKeys.push("server.proxy_protocol_trusted_cidrs");
  if (s.profiling_enabled) ignoredKeys.push("server.profiling_enabled");
  if (s.audit_log_enabled) ignoredKeys.push("server.audit_log_enabled");
  if (s.experimental?.auth_opa_policy_engine !== undefined) ignoredKeys.push("server.experimental.auth_opa_policy_engine");

  return {
    path: origin.path,
    trustDomain,
    bindAddress: s.bind_address,
    bindPort: s.bind_port,
    socketPath: s.socket_path,
    ...(s.data_dir !== undefined ? { dataDir: s.data_dir } : {}),
    adminIds: s.admin_ids,
    caKeyType: s.ca_key_type as KeyType,
    jwtKeyType: (s.jwt_key_type ?? s.ca_key_type) as KeyType,
    caTtlSeconds: caTtl,
    caSubject: {
      country: s.ca_subject?.country.length ? s.ca_subject.country : ["US"],
      organization: s.ca_subject?.organization.length ? s.ca_subject.organization : ["SPIFFE"],
      commonName: s.ca_subject?.common_name ?? "",
    },
    defaultX509SvidTtlSeconds: x509Ttl,
    defaultJwtSvidTtlSeconds: seconds(s.default_jwt_svid_ttl),
    agentTtlSeconds: s.agent_ttl !== undefined && s.agent_ttl > 0 ? seconds(s.agent_ttl) : x509Ttl,
    disableJwtSvids: s.disable_jwt_svids,
    jwtIssuer: s.jwt_issuer,
    logLevel: s.log_level.toUpperCase(),
    logFormat: s.log_format.toLowerCase() as "text" | "json",
    ...(s.log_file !== undefined && s.log_file !== "" ? { logFile: s.log_file } : {}),
    rateLimit: { attestation: s.ratelimit?.attestation ?? true, signing: s.ratelimit?.signing ?? true },
    agentIdAsSelector: s.experimental?.agent_spiffe_id_as_selector ?? false,
    pruneEventsOlderThanSeconds: seconds(s.experimental?.prune_events_older_than ?? 12 * 3600_000),
    healthChecks: healthChecksConfig(file.health_checks),
    federation,
    ...(file.plugins !== undefined ? { plugins: file.plugins } : {}),
    ...(origin.source !== undefined ? { source: origin.source } : {}),
    ignoredKeys,
  };
}

function flagKeys(flags: ServerFlagOverrides) {
  return {
    bind_address: flags.bindAddress,
    bind_port: flags.serverPort,
    socket_path: flags.socketPath,
    trust_domain: flags.trustDomain,
    data_dir: flags.dataDir,
    log_file: flags.logFile,
    log_format: flags.logFormat,
    log_level: flags.logLevel,
  };
}
