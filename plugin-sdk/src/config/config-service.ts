import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { ConfigService, type CoreConfiguration } from "@signet/proto/spire/service/common/config/v1/config";
import { TrustDomain } from "@signet/spiffe";

/** Host-side settings every plugin receives with its configuration. */
export interface CoreConfig {
  /** Trust domain name, e.g. "example.org". */
  readonly trustDomain: string;
}

/**
 * How a plugin turns its configuration text into settings and applies them.
 * `parse` must not have side effects (no files written, no network, no keys
 * generated): Validate calls it alone, so it is where every check belongs.
 */
export interface ConfigHandlers<C> {
  /**
   * Throws if the text is wrong; the message is shown to the operator. To
   * report several problems at once, throw an AggregateError: Validate
   * answers with one note per inner error, Configure with them all joined.
   */
  parse(hclConfiguration: string, core: CoreConfig): C | Promise<C>;
  /** Puts a parsed configuration to use: open connections, create directories, swap state. */
  apply(config: C, core: CoreConfig): void | Promise<void>;
}

/**
 * The common Config service. Configure runs at load and again on every
 * reload of a plugin_data_file, possibly while other calls are in flight:
 * parse, then apply. Validate (`spire-server validate`, `signet-server
 * validate`, `signet-agent validate`) runs the same core-configuration
 * checks and `parse`, never `apply`, and answers problems as notes rather
 * than as an error status.
 */
export function configService<C>(handlers: ConfigHandlers<C>): ServiceRegistration {
  return implement(ConfigService, {
    async configure(req) {
      let core: CoreConfig;
      let config: C;
      try {
        core = coreOf(req.coreConfiguration);
        config = await handlers.parse(req.hclConfiguration, core);
      } catch (e) {
        throw asInvalidArgument(e);
      }
      await handlers.apply(config, core);
      return {};
    },
    async validate(req) {
      try {
        const core = coreOf(req.coreConfiguration);
        await handlers.parse(req.hclConfiguration, core);
        return { valid: true, notes: [] };
      } catch (e) {
        return { valid: false, notes: notesOf(e) };
      }
    },
  });
}

/** SPIRE's pluginconf checks of the core configuration, in its words. */
function coreOf(core: CoreConfiguration | undefined): CoreConfig {
  if (!core) throw new RpcError(Code.INVALID_ARGUMENT, "server core configuration is required");
  if (!core.trustDomain) throw new RpcError(Code.INVALID_ARGUMENT, "server core configuration must contain trust_domain");
  try {
    TrustDomain.parse(core.trustDomain);
  } catch (e) {
    throw new RpcError(Code.INVALID_ARGUMENT, `server core configuration trust_domain is malformed: ${messageOf(e)}`);
  }
  return { trustDomain: core.trustDomain };
}

function notesOf(e: unknown): string[] {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(messageOf);
  return [messageOf(e)];
}

function asInvalidArgument(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  return new RpcError(Code.INVALID_ARGUMENT, notesOf(e).join("; "));
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
