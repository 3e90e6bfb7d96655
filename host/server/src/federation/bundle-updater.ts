/**
 * One federated trust domain's refresh (SPIRE's bundleUpdater): read the
 * bundle held for it, fetch the endpoint's, and store the fetched one as the
 * trust domain's bundle when it differs. For https_spiffe the endpoint is
 * authenticated with the bundle held for the endpoint ID's trust domain
 * (the relationship's trust_domain_bundle lands there, then every fetched
 * bundle replaces it).
 */
import { X509Certificate } from "node:crypto";
import { Code, isRpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { parseCertificates, type TrustDomain } from "@signet/spiffe";
import type { DataStore } from "../datastore/datastore.js";
import { type BundleClientConfig, fetchFederatedBundle } from "./bundle-client.js";
import { bundlesEqual } from "./bundle-equal.js";
import type { TrustDomainConfig } from "./config.js";
import { sameTrustDomainConfig } from "./relationship-source.js";

export type UpdaterDataStore = Pick<DataStore, "fetchBundle" | "setBundle">;

/** What one update learned: the bundle held before, and the fetched one if it changed and was stored. */
export interface UpdateResult {
  readonly held?: Bundle;
  readonly stored?: Bundle;
  readonly error?: Error;
}

export type FetchBundle = (config: BundleClientConfig, signal: AbortSignal) => Promise<Bundle>;

export class BundleUpdater {
  private config: TrustDomainConfig;

  constructor(
    readonly trustDomain: TrustDomain,
    config: TrustDomainConfig,
    private readonly dataStore: UpdaterDataStore,
    private readonly fetch: FetchBundle = fetchFederatedBundle,
  ) {
    this.config = config;
  }

  get trustDomainConfig(): TrustDomainConfig {
    return this.config;
  }

  /** Replaces the configuration; true when it changed. */
  setTrustDomainConfig(config: TrustDomainConfig): boolean {
    if (sameTrustDomainConfig(this.config, config)) return false;
    this.config = config;
    return true;
  }

  /** Never throws: failures come back in `error`, with whatever was learned before them. */
  async updateBundle(signal: AbortSignal): Promise<UpdateResult> {
    const config = this.config;
    let client: BundleClientConfig;
    try {
      client = await this.clientConfig(config);
    } catch (err) {
      return { error: asError(err) };
    }
    let held: Bundle | undefined;
    try {
      held = await fetchBundleIfExists(this.dataStore, this.trustDomain.name);
    } catch (err) {
      return { error: new Error(`failed to fetch local federated bundle: ${asError(err).message}`) };
    }
    const heldPart = held ? { held } : {};
    let fetched: Bundle;
    try {
      fetched = await this.fetch(client, signal);
    } catch (err) {
      return { ...heldPart, error: new Error(`failed to fetch federated bundle from endpoint: ${asError(err).message}`) };
    }
    if (held && bundlesEqual(fetched, held)) return heldPart;
    // Stopped meanwhile (relationship removed, server stopping, RefreshBundle's caller gone): the answer is not stored.
    if (signal.aborted) return { ...heldPart, error: new Error("bundle update cancelled before the fetched bundle was stored") };
    try {
      await this.dataStore.setBundle({ bundle: fetched });
    } catch (err) {
      return { ...heldPart, error: new Error(`failed to store fetched federated bundle: ${asError(err).message}`) };
    }
    return { ...heldPart, stored: fetched };
  }

  private async clientConfig(config: TrustDomainConfig): Promise<BundleClientConfig> {
    const base = { trustDomain: this.trustDomain, endpointUrl: config.endpointUrl };
    if (config.profile.kind !== "https_spiffe") return base;
    const endpointTd = config.profile.endpointSpiffeId.trustDomain;
    let endpointBundle: Bundle | undefined;
    try {
      endpointBundle = await fetchBundleIfExists(this.dataStore, endpointTd.name);
    } catch (err) {
      throw new Error(`failed to fetch local copy of bundle for ${JSON.stringify(endpointTd.name)}: ${asError(err).message}`);
    }
    if (!endpointBundle) throw new Error("can't perform SPIFFE Authentication: local copy of bundle not found");
    const roots: X509Certificate[] = endpointBundle.x509Authorities.flatMap((a) => parseCertificates(a.asn1));
    return { ...base, spiffeAuth: { endpointSpiffeId: config.profile.endpointSpiffeId, roots } };
  }
}

async function fetchBundleIfExists(dataStore: UpdaterDataStore, trustDomain: string): Promise<Bundle | undefined> {
  try {
    return (await dataStore.fetchBundle({ trustDomain })).bundle;
  } catch (err) {
    if (isRpcError(err) && err.code === Code.NOT_FOUND) return undefined;
    throw err;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
