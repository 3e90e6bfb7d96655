/**
 * The server's plugins, typed: the catalog knows only processes and services;
 * this is where each plugin type gets its facade (SPIRE's catalog.Repository
 * for the server).
 */
import type { Catalog, Logger, ManagedPlugin } from "@signet/host-common";
import { type KeyManagerFacade, keyManagerFacadeFor, ServerNodeAttestorFacade } from "@signet/host-common";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { NodeAttestorService } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import type { DataStore } from "./datastore/datastore.js";

export interface ServerPlugins {
  readonly dataStore: DataStore;
  readonly dataStorePlugin: ManagedPlugin;
  readonly keyManager: KeyManagerFacade;
  readonly keyManagerPlugin: ManagedPlugin;
  /** By plugin name (the attestation data type agents send). */
  readonly nodeAttestors: ReadonlyMap<string, ServerNodeAttestorFacade>;
  readonly upstreamAuthority?: ManagedPlugin;
}

export function serverPlugins(catalog: Catalog, _log: Logger): ServerPlugins {
  const dataStorePlugin = only(catalog, "DataStore");
  const keyManagerPlugin = only(catalog, "KeyManager");
  const nodeAttestors = new Map<string, ServerNodeAttestorFacade>();
  for (const plugin of catalog.ofType("NodeAttestor")) {
    nodeAttestors.set(plugin.name, new ServerNodeAttestorFacade(plugin.client(NodeAttestorService), plugin.name));
  }
  const upstream = catalog.ofType("UpstreamAuthority")[0];
  return {
    dataStore: dataStorePlugin.client(DataStoreService),
    dataStorePlugin,
    // With the BatchSigner extension when the plugin advertises it (ours do), SignData otherwise.
    keyManager: keyManagerFacadeFor(keyManagerPlugin, "server"),
    keyManagerPlugin,
    nodeAttestors,
    ...(upstream ? { upstreamAuthority: upstream } : {}),
  };
}

/** Cardinality was checked when the config was read; this only names the one plugin of a type. */
function only(catalog: Catalog, type: string): ManagedPlugin {
  const plugin = catalog.ofType(type)[0];
  if (!plugin) throw new Error(`exactly one ${type} plugin is required`);
  return plugin;
}
