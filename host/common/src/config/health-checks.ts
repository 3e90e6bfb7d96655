/**
 * The `health_checks { … }` block both hosts share (spire-apis.md 8.3):
 * its schema with SPIRE's defaults, and the decoded settings.
 */
import { bool, ConfigError, type Infer, object, str } from "@signet/config";

export const healthChecksSection = object({
  listener_enabled: bool().default(false),
  bind_address: str().default("localhost"),
  bind_port: str().default("80"),
  live_path: str().default("/live"),
  ready_path: str().default("/ready"),
});

export interface HealthChecksConfig {
  readonly listenerEnabled: boolean;
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly livePath: string;
  readonly readyPath: string;
}

export function healthChecksConfig(block: Infer<typeof healthChecksSection> | undefined): HealthChecksConfig {
  const bindPort = block ? Number.parseInt(block.bind_port, 10) : 80;
  if (!Number.isInteger(bindPort) || bindPort < 0 || bindPort > 65535) {
    throw new ConfigError({ path: "health_checks.bind_port", detail: `invalid port ${JSON.stringify(block?.bind_port)}` });
  }
  return {
    listenerEnabled: block?.listener_enabled ?? false,
    bindAddress: block?.bind_address ?? "localhost",
    bindPort,
    livePath: block?.live_path ?? "/live",
    readyPath: block?.ready_path ?? "/ready",
  };
}
