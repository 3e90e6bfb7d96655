/**
 * Where the bundle client learns which trust domains to fetch: the
 * `federates_with` blocks of the config and the relationships stored through
 * the TrustDomain API. Config wins for a trust domain in both (SPIRE: static
 * relationships override dynamic ones).
 */
import type { FederationRelationship } from "@signet/proto/spire/api/types/federationrelationship";
import { SpiffeId } from "@signet/spiffe";
import type { DataStore } from "../datastore/datastore.js";
import type { EndpointProfile, TrustDomainConfig } from "./config.js";

export type TrustDomainConfigs = ReadonlyMap<string, TrustDomainConfig>;

export interface RelationshipSource {
  trustDomainConfigs(): Promise<TrustDomainConfigs>;
}

/** The relationships stored in the DataStore; one with a profile it cannot use is skipped with a warning. */
export function dataStoreRelationships(
  dataStore: Pick<DataStore, "listFederationRelationships">,
  warn: (msg: string, fields: Record<string, unknown>) => void,
): RelationshipSource {
  return {
    async trustDomainConfigs() {
      const res = await dataStore.listFederationRelationships({ pageSize: 0, pageToken: "" });
      const configs = new Map<string, TrustDomainConfig>();
      for (const fr of res.federationRelationships) {
        const profile = profileOf(fr);
        if (!profile) {
          warn("Ignoring federation relationship with unknown profile type", { trust_domain: fr.trustDomain });
          continue;
        }
        configs.set(fr.trustDomain, { endpointUrl: fr.bundleEndpointUrl, profile });
      }
      return configs;
    },
  };
}

/** A fixed set (the config file's `federates_with`). */
export function staticRelationships(configs: TrustDomainConfigs): RelationshipSource {
  return { trustDomainConfigs: async () => configs };
}

/**
 * `source` without the server's own trust domain. A relationship for it
 * (federates_with naming it, or a row written around the TrustDomain API,
 * which refuses one) would let that endpoint replace the bundle every agent
 * and workload trusts for this trust domain; it is skipped, with a warning
 * when it first appears (not on every 10 s re-read).
 */
export function excludingOwnTrustDomain(
  source: RelationshipSource,
  own: string,
  warn: (msg: string, fields: Record<string, unknown>) => void,
): RelationshipSource {
  let present = false;
  return {
    async trustDomainConfigs() {
      const configs = await source.trustDomainConfigs();
      const was = present;
      present = configs.has(own);
      if (!present) return configs;
      if (!was) warn("Ignoring federation relationship for the server's own trust domain", { trust_domain: own });
      const rest = new Map(configs);
      rest.delete(own);
      return rest;
    },
  };
}

/** Later sources first, then earlier ones over them: the first source wins. */
export function mergeRelationships(...sources: RelationshipSource[]): RelationshipSource {
  return {
    async trustDomainConfigs() {
      const merged = new Map<string, TrustDomainConfig>();
      for (const source of [...sources].reverse()) {
        for (const [td, config] of await source.trustDomainConfigs()) merged.set(td, config);
      }
      return merged;
    },
  };
}

export function sameTrustDomainConfig(a: TrustDomainConfig, b: TrustDomainConfig): boolean {
  if (a.endpointUrl !== b.endpointUrl || a.profile.kind !== b.profile.kind) return false;
  return a.profile.kind !== "https_spiffe" || a.profile.endpointSpiffeId.toString() === (b.profile as typeof a.profile).endpointSpiffeId.toString();
}

function profileOf(fr: FederationRelationship): EndpointProfile | undefined {
  const p = fr.bundleEndpointProfile;
  if (p?.$case === "httpsWeb") return { kind: "https_web" };
  if (p?.$case === "httpsSpiffe") {
    try {
      return { kind: "https_spiffe", endpointSpiffeId: SpiffeId.parse(p.value.endpointSpiffeId) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
