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
 * plugin answers with the services it serves. Mirrors SPIRE's SDK, which
 * dials broker id 1 only when some implementation wants host services.
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
