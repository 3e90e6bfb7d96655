/**
 * Federation as the server runs it: the bundle client manager (always on,
 * since relationships may come from the TrustDomain API at any time) and,
 * when `federation.bundle_endpoint` is set, the bundle endpoint.
 */
import { Code, isRpcError } from "@signet/proto";
import type { Logger } from "@signet/host-common";
import type { TrustDomain } from "@signet/spiffe";
import type { Clock } from "../ca/clock.js";
import type { DataStore } from "../datastore/datastore.js";
import type { ServerSvidSource } from "../endpoints/svid-source.js";
import { BundleEndpoint } from "./bundle-endpoint.js";
import { BundleManager } from "./bundle-manager.js";
import { BundleUpdater } from "./bundle-updater.js";
import type { FederationConfig } from "./config.js";
import { dataStoreRelationships, excludingOwnTrustDomain, mergeRelationships, staticRelationships } from "./relationship-source.js";
import { ServingCertFiles } from "./serving-cert.js";

export interface FederationDeps {
  readonly config: FederationConfig;
  readonly trustDomain: TrustDomain;
  readonly dataStore: Pick<DataStore, "fetchBundle" | "setBundle" | "listFederationRelationships">;
  readonly svid: ServerSvidSource;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface RunningFederation {
  readonly bundleManager: BundleManager;
  /** The bundle endpoint's bound port, when one is served. */
  readonly bundleEndpointPort?: number;
  stop(): Promise<void>;
}

export async function startFederation(deps: FederationDeps): Promise<RunningFederation> {
  const clientLog = deps.log.with({ subsystem_name: "bundle_client" });
  const warn = (msg: string, fields: Record<string, unknown>) => clientLog.warn(msg, fields);
  const bundleManager = new BundleManager({
    source: excludingOwnTrustDomain(
      mergeRelationships(staticRelationships(deps.config.federatesWith), dataStoreRelationships(deps.dataStore, warn)),
      deps.trustDomain.name,
      warn,
    ),
    newUpdater: (td, config) => new BundleUpdater(td, config, deps.dataStore),
    clock: deps.clock,
    log: clientLog,
  });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const be = deps.config.bundleEndpoint;
    let endpoint: BundleEndpoint | undefined;
    if (be) {
      const log = deps.log.with({ subsystem_name: "bundle_endpoint" });
      let identity: ConstructorParameters<typeof BundleEndpoint>[0]["identity"];
      if (be.profile.kind === "https_web") {
        const files = new ServingCertFiles(be.profile.servingCertFile, deps.clock, log);
        await files.load();
        files.watch();
        stops.push(() => files.stop());
        identity = { kind: "https_web", current: () => files.current() };
      } else {
        identity = { kind: "https_spiffe", svid: deps.svid };
      }
      endpoint = new BundleEndpoint({
        address: be.address,
        port: be.port,
        refreshHintSeconds: be.refreshHintSeconds,
        bundle: () => ownBundle(deps),
        identity,
        log,
      });
      await endpoint.start();
      stops.push(() => endpoint!.stop());
    }
    bundleManager.start();
    stops.push(() => bundleManager.stop());
    return { bundleManager, ...(endpoint ? { bundleEndpointPort: endpoint.port } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function ownBundle(deps: FederationDeps) {
  try {
    const res = await deps.dataStore.fetchBundle({ trustDomain: deps.trustDomain.name });
    if (res.bundle) return res.bundle;
  } catch (err) {
    if (!(isRpcError(err) && err.code === Code.NOT_FOUND)) throw err;
  }
  throw new Error("trust domain bundle not found");
}
