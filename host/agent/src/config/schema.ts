/**
 * The schema of agent.conf: SPIRE's `agent { … }` keys with SPIRE's defaults
 * (spire-apis.md 8.2, 8.3). Every key SPIRE accepts decodes here, so a stock
 * agent.conf loads; keys Signet does not act on are collected by load.ts and
 * logged at start-up rather than silently ignored.
 */
import { bool, duration, int, list, object, oneOf, raw, str } from "@signet/config";
import { healthChecksSection } from "@signet/host-common";

export const logLevelSchema = oneOf(["PANIC", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"], { ignoreCase: true });

const rateLimit = object({
  fetch_x509_svid: int({ min: 0 }).default(0),
  fetch_jwt_svid: int({ min: 0 }).default(0),
  fetch_x509_bundles: int({ min: 0 }).default(0),
  fetch_jwt_bundles: int({ min: 0 }).default(0),
  stream_secrets: int({ min: 0 }).default(0),
  fetch_secrets: int({ min: 0 }).default(0),
});

const experimental = object({
  sync_interval: duration().default(5_000),
  use_sync_authorized_entries: bool().default(true),
  jwt_svid_cache_hit_timeout: duration().default(30_000),
  require_pq_kem: bool().default(false),
  named_pipe_name: str().optional(),
  admin_named_pipe_name: str().optional(),
  ratelimit: rateLimit.optional(),
  broker: raw().optional(),
  feature_flags: list(str()).default([]),
});

export const agentSection = object({
  trust_domain: str(),
  server_address: str(),
  server_port: int({ min: 1, max: 65535 }),
  data_dir: str().default("."),
  socket_path: str().default("/tmp/spire-agent/public/api.sock"),
  admin_socket_path: str().optional(),
  trust_bundle_path: str().optional(),
  trust_bundle_url: str().optional(),
  trust_bundle_unix_socket: str().optional(),
  trust_bundle_spiffe_workload_api: raw().optional(),
  trust_bundle_format: oneOf(["pem", "spiffe"]).default("pem"),
  insecure_bootstrap: bool().default(false),
  rebootstrap_mode: oneOf(["never", "auto", "always"]).default("never"),
  rebootstrap_delay: duration().default(600_000),
  join_token: str().optional(),
  join_token_file: str().optional(),
  authorized_delegates: list(str()).default([]),
  allow_unauthenticated_verifiers: bool().default(false),
  allowed_foreign_jwt_claims: list(str()).default([]),
  disable_workload_api: bool().default(false),
  disable_sds_api: bool().default(false),
  sds: object({
    default_svid_name: str().default("default"),
    default_bundle_name: str().default("ROOTCA"),
    default_all_bundles_name: str().default("ALL"),
    disable_spiffe_cert_validation: bool().default(false),
  }).optional(),
  workload_x509_svid_key_type: oneOf(["ec-p256", "ec-p384", "rsa-2048"]).default("ec-p256"),
  availability_target: duration().optional(),
  x509_svid_cache_max_size: int({ min: 0 }).default(1000),
  jwt_svid_cache_max_size: int({ min: 0 }).default(1000),
  disable_x509_svid_prefetch: bool().default(false),
  log_file: str().optional(),
  log_level: logLevelSchema.default("INFO"),
  log_format: oneOf(["text", "json"], { ignoreCase: true }).default("text"),
  log_source_location: bool().default(false),
  log_selectors: list(str()).default([]),
  profiling_enabled: bool().default(false),
  profiling_port: int().optional(),
  profiling_freq: int().optional(),
  profiling_names: list(str()).default([]),
  experimental: experimental.optional(),
});

export const agentFile = object({
  agent: agentSection,
  plugins: raw().optional(),
  // SPIRE does not check the telemetry block's own keys either.
  telemetry: object({}, { allowUnknownKeys: true }).optional(),
  health_checks: healthChecksSection.optional(),
});
