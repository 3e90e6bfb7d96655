import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { ConfigService, type CoreConfiguration } from "@signet/proto/spire/service/common/config/v1/config";

/** Host-side settings every plugin receives with its configuration. */
export interface CoreConfig {
  /** Trust domain name, e.g. "example.org". */
  readonly trustDomain: string;
}

/**
 * How a plugin turns its configuration text into settings and applies them.
 * `parse` must not have side effects: Validate calls it alone.
 */
export interface ConfigHandlers<C> {
  /** Throws (any error; its message is shown to the operator) if the text is wrong. */
  parse(hclConfiguration: string, core: CoreConfig): C | Promise<C>;
  apply(config: C, core: CoreConfig): void | Promise<void>;
}

/**
 * The common Config service. Configure runs at load and again on every
 * reload of a plugin_data_file, possibly while other calls are in flight;
 * Validate is `spire-server validate` / `signet-server validate`.
 */
export function configService<C>(handlers: ConfigHandlers<C>): ServiceRegistration {
  return implement(ConfigService, {
    async configure(req) {
      const core = coreOf(req.coreConfiguration);
      let config: C;
      try {
        config = await handlers.parse(req.hclConfiguration, core);
      } catch (e) {
        throw asInvalidArgument(e);
      }
      await handlers.apply(config, core);
      return {};
    },
    async validate(req) {
      const core = coreOf(req.coreConfiguration);
      try {
        await handlers.parse(req.hclConfiguration, core);
        return { valid: true, notes: [] };
      } catch (e) {
        return { valid: false, notes: [e instanceof Error ? e.message : String(e)] };
      }
    },
  });
}

function coreOf(core: CoreConfiguration | undefined): CoreConfig {
  if (!core?.trustDomain) throw new RpcError(Code.INVALID_ARGUMENT, "core configuration is missing the trust domain");
  return { trustDomain: core.trustDomain };
}

function asInvalidArgument(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  return new RpcError(Code.INVALID_ARGUMENT, e instanceof Error ? e.message : String(e));
}
