/**
 * The CLI's connection to the server's local API: plaintext gRPC over the
 * Unix socket, one channel shared by every service client, as SPIRE's
 * util.NewServerClient does.
 */
import { Channel, credentials } from "@grpc/grpc-js";
import { createClient, type AsyncClient, type ServiceDefinition } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { DebugService } from "@signet/proto/spire/api/server/debug/v1/debug";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { LocalAuthorityService } from "@signet/proto/spire/api/server/localauthority/v1/localauthority";
import { LoggerService } from "@signet/proto/spire/api/server/logger/v1/logger";
import { SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import { TrustDomainService } from "@signet/proto/spire/api/server/trustdomain/v1/trustdomain";
import { HealthService } from "@signet/proto/grpc/health/v1/health";
import { translateDialError } from "@signet/host-common";

export const defaultSocketPath = "/tmp/spire-server/private/api.sock";

export interface ServerClient {
  readonly agent: AsyncClient<typeof AgentService>;
  readonly bundle: AsyncClient<typeof BundleService>;
  readonly debug: AsyncClient<typeof DebugService>;
  readonly entry: AsyncClient<typeof EntryService>;
  readonly localAuthority: AsyncClient<typeof LocalAuthorityService>;
  readonly logger: AsyncClient<typeof LoggerService>;
  readonly svid: AsyncClient<typeof SVIDService>;
  readonly trustDomain: AsyncClient<typeof TrustDomainService>;
  readonly health: AsyncClient<typeof HealthService>;
  close(): void;
}

/** Opens (lazily: the first call dials) a client for the socket at `socketPath`. */
export function connectServer(socketPath: string): ServerClient {
  const channel = new Channel(`unix:${socketPath}`, credentials.createInsecure(), {});
  const make = <S extends ServiceDefinition>(def: S) => goErrors(createClient(def, channel), socketPath);
  return {
    agent: make(AgentService),
    bundle: make(BundleService),
    debug: make(DebugService),
    entry: make(EntryService),
    localAuthority: make(LocalAuthorityService),
    logger: make(LoggerService),
    svid: make(SVIDService),
    trustDomain: make(TrustDomainService),
    health: make(HealthService),
    close: () => channel.close(),
  };
}

/** Rewrites dial failures in grpc-go's words so scripts matching on them keep working. */
function goErrors<C extends object>(client: C, socketPath: string): C {
  const out: Record<string, unknown> = {};
  for (const [key, fn] of Object.entries(client)) {
    out[key] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        throw translateDialError(e, socketPath);
      }
    };
  }
  return out as C;
}
