import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { InitService } from "@signet/proto/spire/service/private/init/v1/init";
import type { Logger } from "../log/logger.js";
import type { Broker, HostConnection } from "@signet/plugin-protocol";

/** The broker id on which SPIRE hosts serve their host services (SDK constant). */
export const hostServiceBrokerId = 1;

export interface InitHooks {
  /** Called with the host's offer once it is known; may open host-service clients. */
  readonly onInit?: (host: HostConnection) => void | Promise<void>;
  /** Release resources before unload. Errors are logged by the host, not fatal. */
  readonly onDeinit?: () => void | Promise<void>;
  /** Host services the plugin cannot work without; Init fails if one is not offered. */
  readonly requiredHostServices?: readonly string[];
}

/**
 * The SDK's private Init service: the host lists its host services, the
 * plugin answers with the services it serves. Host services, when offered,
 * are dialled on broker id 1 during Init.
 */
export function initService(
  served: readonly ServiceRegistration[],
  broker: Broker,
  hooks: InitHooks,
  log: Logger,
): ServiceRegistration {
  let channel: ReturnType<Broker["dial"]> | undefined;
  return implement(InitService, {
    async init(req) {
      const offered = new Set(req.hostServiceNames);
      for (const name of hooks.requiredHostServices ?? []) {
        if (!offered.has(name)) {
          throw new RpcError(Code.FAILED_PRECONDITION, `required host service ${name} is not offered by the host`);
        }
      }
      // The host announces its host-service listener during Init and the broker forgets an
      // announcement nobody takes within 5 s, so it is taken now (a grpc-js channel connects only
      // when first used), not when a plugin first calls a host service, maybe minutes later.
      if (offered.size > 0 && !channel) {
        channel = broker.dial(hostServiceBrokerId);
        channel.catch((e: unknown) => log.warn("Host services are offered but their broker connection failed", { error: String(e) }));
      }
      const host: HostConnection = {
        offered,
        channel: () => {
          channel ??= broker.dial(hostServiceBrokerId);
          return channel;
        },
      };
      await hooks.onInit?.(host);
      log.debug("Plugin initialized", { host_services: [...offered] });
      return { pluginServiceNames: served.map((s) => s.name) };
    },
    async deinit() {
      await hooks.onDeinit?.();
      if (channel) (await channel.catch(() => undefined))?.close();
      return {};
    },
  });
}
