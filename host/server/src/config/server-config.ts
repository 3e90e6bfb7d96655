import type { TrustDomain } from "@signet/spiffe";

/**
 * The decoded `server { … }` block plus what the daemon needs from the rest
 * of the file. Owned by the daemon wiring (integrator); the CLI calls
 * `loadServerConfig` for `run` and `validate`.
 */
export interface ServerConfig {
  readonly trustDomain: TrustDomain;
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly socketPath: string;
  readonly dataDir?: string;
  readonly adminIds: readonly string[];
  readonly caKeyType: "ec-p256" | "ec-p384" | "rsa-2048" | "rsa-4096";
  readonly jwtKeyType: "ec-p256" | "ec-p384" | "rsa-2048" | "rsa-4096";
  readonly caTtlSeconds: number;
  readonly caSubject: { readonly country: readonly string[]; readonly organization: readonly string[]; readonly commonName: string };
  readonly defaultX509SvidTtlSeconds: number;
  readonly defaultJwtSvidTtlSeconds: number;
  readonly agentTtlSeconds: number;
  readonly disableJwtSvids: boolean;
  readonly jwtIssuer: string;
  readonly logLevel: string;
  readonly logFormat: "text" | "json";
  readonly logFile?: string;
  readonly rateLimit: { readonly attestation: boolean; readonly signing: boolean };
  readonly healthChecks: {
    readonly listenerEnabled: boolean;
    readonly bindAddress: string;
    readonly bindPort: number;
    readonly livePath: string;
    readonly readyPath: string;
  };
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
}
