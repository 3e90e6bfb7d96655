/**
 * The schema of server.conf: SPIRE's `server { … }` keys with SPIRE's
 * defaults (spire-apis.md 8.1, 8.3). Every key SPIRE accepts decodes here, so
 * a stock server.conf loads; keys Signet does not act on yet are listed in
 * `unsupported.ts` and logged at start-up rather than silently ignored.
 */
import { bool, duration, int, list, map, object, oneOf, raw, str } from "@signet/config";
import { healthChecksSection } from "@signet/host-common";

const keyType = oneOf(["ec-p256", "ec-p384", "rsa-2048", "rsa-4096"]);

export const logLevelSchema = oneOf(["PANIC", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"], { ignoreCase: true });

// The labelled profile blocks are decoded in federation/config.ts, with SPIRE's messages.
const federation = object({
  bundle_endpoint: object({
    address: str().default("0.0.0.0"),
    // SPIRE leaves the port at Go's zero value when unset: a free port.
    port: int({ min: 0, max: 65535 }).default(0),
    refresh_hint: duration().optional(),
    profile: raw().optional(),
    acme: raw().optional(),
  }).optional(),
  federates_with: map(
    object({ bundle_endpoint_url: str().default(""), bundle_endpoint_profile: raw().optional() }),
  ).default({}),
}).optional();

const experimental = object(
  {
    agent_spiffe_id_as_selector: bool().default(false),
    cache_reload_interval: duration().optional(),
    events_based_cache: bool().default(false),
    full_cache_reload_interval: duration().optional(),
    prune_events_older_than: duration().default(12 * 3600_000),
    event_timeout: duration().optional(),
    sql_transaction_timeout: duration().optional(),
    auth_opa_policy_engine: raw().optional(),
    require_pq_kem: bool().default(false),
    wit_key_type: keyType.optional(),
    wit_issuer: str().optional(),
    named_pipe_name: str().optional(),
    feature_flags: list(str()).default([]),
  },
);

export const serverSection = object({
  trust_domain: str(),
  bind_address: str().default("0.0.0.0"),
  bind_port: int({ min: 0, max: 65535 }).default(8081),
  socket_path: str().default("/tmp/spire-server/private/api.sock"),
  data_dir: str().optional(),
  admin_ids: list(str()).default([]),
  agent_ttl: duration().optional(),
  ca_key_type: keyType.default("ec-p256"),
  jwt_key_type: keyType.optional(),
  ca_ttl: duration().default(24 * 3600_000),
  ca_subject: object({
    country: list(str()).default([]),
    organization: list(str()).default([]),
    common_name: str().default(""),
  }).optional(),
  default_x509_svid_ttl: duration().default(3600_000),
  default_jwt_svid_ttl: duration().default(300_000),
  // Deprecated SPIRE alias of default_x509_svid_ttl.
  default_svid_ttl: duration().optional(),
  disable_jwt_svids: bool().default(false),
  jwt_issuer: str().default(""),
  audit_log_enabled: bool().default(false),
  log_file: str().optional(),
  log_level: logLevelSchema.default("INFO"),
  log_format: oneOf(["text", "json"], { ignoreCase: true }).default("text"),
  log_source_location: bool().default(false),
  max_attested_node_info_staleness: duration().default(0),
  prune_attested_nodes_expired_for: duration().optional(),
  prune_attested_nodes_batch_size: int({ min: 1 }).default(1000),
  prune_tofu_nodes: bool().default(false),
  proxy_protocol_trusted_cidrs: list(str()).default([]),
  ratelimit: object({ attestation: bool().default(true), signing: bool().default(true) }).optional(),
  profiling_enabled: bool().default(false),
  profiling_port: int().optional(),
  profiling_freq: int().optional(),
  profiling_names: list(str()).default([]),
  federation,
  experimental: experimental.optional(),
  cache_reload_interval: duration().optional(),
});

export const serverFile = object({
  server: serverSection,
  plugins: raw().optional(),
  // SPIRE does not check the telemetry block's own keys either.
  telemetry: object({}, { allowUnknownKeys: true }).optional(),
  health_checks: healthChecksSection.optional(),
});
