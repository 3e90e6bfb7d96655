/**
 * The host services signet-server offers every plugin through the go-plugin
 * broker, as SPIRE's server does: AgentStore, IdentityProvider and Metrics.
 * Plugins start before the datastore facade, CA and server SVID exist, so the
 * services are registered at launch and bound to them once the server is up;
 * until then they answer FailedPrecondition, as SPIRE's do.
 */
import { type Logger, metricsHostService } from "@signet/host-common";
import type { ServiceRegistration } from "@signet/proto";
import type { DataStore } from "../datastore/datastore.js";
import type { ServerSvidSource } from "../svid/rotator.js";
import { agentStoreService } from "./agent-store.js";
import { type IdentityProviderDeps, identityProviderService } from "./identity-provider.js";

export class ServerHostServices {
  private deps: IdentityProviderDeps | undefined;

  constructor(
    private readonly trustDomain: string,
    private readonly log: Logger,
  ) {}

  /** For the catalog: the services one plugin process is offered. */
  readonly forPlugin = (plugin: { type: string; name: string }): readonly ServiceRegistration[] => [
    agentStoreService(() => this.deps?.dataStore),
    identityProviderService(this.trustDomain, () => this.deps),
    metricsHostService(plugin, this.log),
  ];

  bind(deps: { dataStore: DataStore; serverSvid: ServerSvidSource }): void {
    this.deps = deps;
  }
}
