import type { ConfigSource, ConfigValue } from "@signet/config";
import type { HealthChecksConfig } from "@signet/host-common";
import type { TrustDomain } from "@signet/spiffe";

export type WorkloadKeyType = "ec-p256" | "ec-p384" | "rsa-2048";

/** Where the agent gets the trust bundle it checks the server with before it has one of its own. */
export type TrustBundleSource =
  | { readonly kind: "path"; readonly path: string; readonly format: "pem" | "spiffe" }
  | { readonly kind: "url"; readonly url: string; readonly format: "pem" | "spiffe"; readonly unixSocket?: string }
  | { readonly kind: "insecure" }
  /** Only a bundle already cached in data_dir will do. */
  | { readonly kind: "none" };

/**
 * The decoded agent.conf: SPIRE's `agent { … }` keys with SPIRE's defaults,
 * plus what the daemon needs from the rest of the file. Durations are ms.
 */
export interface AgentConfig {
  /** The file it came from ("" when built in code). */
  readonly path: string;
  readonly trustDomain: TrustDomain;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly adminSocketPath?: string;
  readonly trustBundle: TrustBundleSource;
  readonly joinToken?: string;
  readonly allowUnauthenticatedVerifiers: boolean;
  readonly allowedForeignJwtClaims: readonly string[];
  readonly disableWorkloadApi: boolean;
  readonly workloadKeyType: WorkloadKeyType;
  readonly availabilityTargetMs?: number;
  readonly x509SvidCacheMaxSize: number;
  readonly jwtSvidCacheMaxSize: number;
  readonly disableX509SvidPrefetch: boolean;
  readonly syncIntervalMs: number;
  readonly jwtSvidCacheHitTimeoutMs: number;
  /** SPIRE's level names, upper case (PANIC … TRACE). */
  readonly logLevel: string;
  readonly logFormat: "text" | "json";
  readonly logFile?: string;
  readonly healthChecks: HealthChecksConfig;
  /** The `plugins { … }` node, for the catalog. */
  readonly plugins?: ConfigValue;
  /** The parsed text, so plugin errors carry line numbers. */
  readonly source?: ConfigSource;
  /** Keys that were accepted (SPIRE has them) but that Signet does not act on; logged at start. */
  readonly ignoredKeys: readonly string[];
}

/** Flags of `run`/`validate` that override file values (SPIRE's names). */
export interface AgentFlagOverrides {
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly trustDomain?: string;
  readonly trustBundle?: string;
  readonly trustBundleUrl?: string;
  readonly joinToken?: string;
  readonly joinTokenFile?: string;
  readonly socketPath?: string;
  readonly dataDir?: string;
  readonly logFile?: string;
  readonly logFormat?: string;
  readonly logLevel?: string;
  readonly allowUnauthenticatedVerifiers?: boolean;
  readonly disableWorkloadApi?: boolean;
  readonly trustBundleFormat?: string;
  readonly insecureBootstrap?: boolean;
  readonly rebootstrapMode?: string;
  /** A Go duration string, as in the file ("10m"). */
  readonly rebootstrapDelay?: string;
}

export interface LoadOptions {
  readonly expandEnv?: boolean;
  readonly flags?: AgentFlagOverrides;
  /** For tests. */
  readonly env?: NodeJS.ProcessEnv;
}
