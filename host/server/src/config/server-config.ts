import type { ConfigSource, ConfigValue } from "@signet/config";
import type { HealthChecksConfig } from "@signet/host-common";
import type { TrustDomain } from "@signet/spiffe";
import type { FederationConfig } from "../federation/config.js";

export type KeyType = "ec-p256" | "ec-p384" | "rsa-2048" | "rsa-4096";

/**
 * The decoded server.conf: SPIRE's `server { … }` keys with SPIRE's defaults,
 * plus what the daemon needs from the rest of the file. Durations are seconds.
 */
export interface ServerConfig {
  /** The file it came from ("" when built in code). */
  readonly path: string;
  readonly trustDomain: TrustDomain;
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly socketPath: string;
  readonly dataDir?: string;
  readonly adminIds: readonly string[];
  readonly caKeyType: KeyType;
  readonly jwtKeyType: KeyType;
  readonly caTtlSeconds: number;
  readonly caSubject: { readonly country: readonly string[]; readonly organization: readonly string[]; readonly commonName: string };
  readonly defaultX509SvidTtlSeconds: number;
  readonly defaultJwtSvidTtlSeconds: number;
  readonly agentTtlSeconds: number;
  readonly disableJwtSvids: boolean;
  readonly jwtIssuer: string;
  /** SPIRE's level names, upper case (PANIC … TRACE). */
  readonly logLevel: string;
  readonly logFormat: "text" | "json";
  readonly logFile?: string;
  readonly rateLimit: { readonly attestation: boolean; readonly signing: boolean };
  /** experimental.agent_spiffe_id_as_selector */
  readonly agentIdAsSelector: boolean;
  /** experimental.prune_events_older_than: change-feed retention. */
  readonly pruneEventsOlderThanSeconds: number;
  readonly healthChecks: HealthChecksConfig;
  /** `federation`: the bundle endpoint served and the relationships configured in the file. */
  readonly federation: FederationConfig;
  /** The `plugins { … }` node, for the catalog. */
  readonly plugins?: ConfigValue;
  /** The parsed text, so plugin errors carry line numbers. */
  readonly source?: ConfigSource;
  /** Keys that were accepted (SPIRE has them) but that Signet does not act on; logged at start. */
  readonly ignoredKeys: readonly string[];
}

/** Flags of `run`/`validate` that override file values (SPIRE's names). */
export interface ServerFlagOverrides {
  readonly bindAddress?: string;
  readonly serverPort?: number;
  readonly socketPath?: string;
  readonly trustDomain?: string;
  readonly dataDir?: string;
  readonly logFile?: string;
  readonly logFormat?: string;
  readonly logLevel?: string;
}

export interface LoadOptions {
  readonly expandEnv?: boolean;
  readonly flags?: ServerFlagOverrides;
  /** For tests. */
  readonly env?: NodeJS.ProcessEnv;
}
