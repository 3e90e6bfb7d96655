import { type AsyncService, Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import { TrustDomainService } from "@signet/proto/spire/api/server/trustdomain/v1/trustdomain";
import type { FederationRelationship } from "@signet/proto/spire/api/types/federationrelationship";
import { TrustDomain } from "@signet/spiffe";
import type { DataStore } from "../../../datastore/datastore.js";
import { apiError, itemStatus, okStatus } from "../../status.js";
import { applyRelationshipMask, RelationshipInputError, reason, relationshipFromApi } from "./convert.js";

/** The DataStore calls the TrustDomain API makes. */
export type TrustDomainDataStore = Pick<
  DataStore,
  | "listFederationRelationships"
  | "fetchFederationRelationship"
  | "createFederationRelationship"
  | "updateFederationRelationship"
  | "deleteFederationRelationship"
>;

/**
 * The federation bundle client as the API drives it (SPIRE's
 * BundleRefresher): relationship changes ask it to re-read them, and
 * RefreshBundle refreshes one trust domain now.
 */
export interface BundleRefresher {
  triggerConfigReload(): void;
  /** Resolves false when no relationship manages `trustDomain`; throws what the refresh failed with. */
  refreshBundleFor(trustDomain: TrustDomain, signal: AbortSignal): Promise<boolean>;
}

export interface TrustDomainServiceDeps {
  readonly dataStore: TrustDomainDataStore;
  readonly trustDomain: TrustDomain;
  /**
   * The federation bundle client (federation/bundle-manager.ts). Without
   * one, RefreshBundle answers FailedPrecondition "federation bundle refresh
   * is not configured" (only API tests build the service so).
   */
  readonly bundleRefresher?: BundleRefresher;
}

/** spire.api.server.trustdomain.v1.TrustDomain */
export function trustDomainService(deps: TrustDomainServiceDeps): ServiceRegistration {
  return implement(TrustDomainService, trustDomainServiceImpl(deps));
}

export function trustDomainServiceImpl(deps: TrustDomainServiceDeps): AsyncService<typeof TrustDomainService> {
  const { dataStore: ds, trustDomain: td } = deps;

  const parse = (name: string): TrustDomain => {
    try {
      return TrustDomain.parse(name);
    } catch (err) {
      throw apiError(Code.INVALID_ARGUMENT, "failed to parse trust domain", reason(err));
    }
  };

  // SPIRE re-reads the relationships after any batch in which one item succeeded.
  const triggerReloadIfAnySucceeded = (results: readonly { status?: { code: number } | undefined }[]) => {
    if (results.some((r) => r.status?.code === 0)) deps.bundleRefresher?.triggerConfigReload();
  };

  return {
    async listFederationRelationships(req) {
      const paged = req.pageSize > 0;
      let page: { federationRelationships: FederationRelationship[]; nextPageToken: string };
      try {
        page = await ds.listFederationRelationships({ pageSize: paged ? req.pageSize : 0, pageToken: paged ? req.pageToken : "" });
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to list federation relationships", err);
      }
      return {
        federationRelationships: page.federationRelationships.map((fr) => applyRelationshipMask(fr, req.outputMask)),
        nextPageToken: paged ? page.nextPageToken : "",
      };
    },

    async getFederationRelationship(req) {
      const trustDomain = parse(req.trustDomain);
      let fr: FederationRelationship | undefined;
      try {
        fr = (await ds.fetchFederationRelationship({ trustDomain: trustDomain.name })).federationRelationship;
      } catch (err) {
        if (isCode(err, Code.NOT_FOUND)) throw apiError(Code.NOT_FOUND, "federation relationship does not exist");
        throw apiError(Code.INTERNAL, "failed to fetch federation relationship", err);
      }
      if (!fr) throw apiError(Code.NOT_FOUND, "federation relationship does not exist");
      return applyRelationshipMask(fr, req.outputMask);
    },

    async batchCreateFederationRelationship(req) {
      const results = [];
      for (const input of req.federationRelationships) {
        let fr: FederationRelationship;
        try {
          fr = relationshipFromApi(input);
        } catch (err) {
          results.push({ status: inputStatus(err), federationRelationship: undefined });
          continue;
        }
        if (fr.trustDomain === td.name) {
          results.push({
            status: itemStatus(Code.INVALID_ARGUMENT, "unable to create federation relationship for server trust domain"),
            federationRelationship: undefined,
          });
          continue;
        }
        try {
          const created = (await ds.createFederationRelationship({ federationRelationship: fr })).federationRelationship;
          results.push({ status: okStatus(), federationRelationship: created && applyRelationshipMask(created, req.outputMask) });
        } catch (err) {
          results.push({
            status: itemStatus(Code.INTERNAL, "failed to create federation relationship", err),
            federationRelationship: undefined,
          });
        }
      }
      triggerReloadIfAnySucceeded(results);
      return { results };
    },

    async batchUpdateFederationRelationship(req) {
      const results = [];
      for (const input of req.federationRelationships) {
        let fr: FederationRelationship;
        try {
          fr = relationshipFromApi(input);
        } catch (err) {
          results.push({ status: inputStatus(err), federationRelationship: undefined });
          continue;
        }
        try {
          const updated = (
            await ds.updateFederationRelationship({
              federationRelationship: fr,
              inputMask: req.inputMask ?? { bundleEndpointUrl: true, bundleEndpointProfile: true, trustDomainBundle: true },
            })
          ).federationRelationship;
          results.push({ status: okStatus(), federationRelationship: updated && applyRelationshipMask(updated, req.outputMask) });
        } catch (err) {
          results.push({
            status: itemStatus(Code.INTERNAL, "failed to update federation relationship", err),
            federationRelationship: undefined,
          });
        }
      }
      triggerReloadIfAnySucceeded(results);
      return { results };
    },

    async batchDeleteFederationRelationship(req) {
      const results = [];
      for (const name of req.trustDomains) {
        if (name === "") {
          results.push({ status: itemStatus(Code.INVALID_ARGUMENT, "missing trust domain"), trustDomain: name });
          continue;
        }
        let trustDomain: TrustDomain;
        try {
          trustDomain = TrustDomain.parse(name);
        } catch (err) {
          results.push({ status: itemStatus(Code.INVALID_ARGUMENT, "failed to parse trust domain", reason(err)), trustDomain: name });
          continue;
        }
        try {
          await ds.deleteFederationRelationship({ trustDomain: trustDomain.name });
          results.push({ status: okStatus(), trustDomain: trustDomain.name });
        } catch (err) {
          results.push({
            status: isCode(err, Code.NOT_FOUND)
              ? itemStatus(Code.NOT_FOUND, "federation relationship not found")
              : itemStatus(Code.INTERNAL, "failed to delete federation relationship", err),
            trustDomain: trustDomain.name,
          });
        }
      }
      triggerReloadIfAnySucceeded(results);
      return { results };
    },

    async refreshBundle(req, ctx) {
      const trustDomain = parse(req.trustDomain);
      if (!deps.bundleRefresher) {
        throw apiError(Code.FAILED_PRECONDITION, "federation bundle refresh is not configured");
      }
      let managed: boolean;
      try {
        managed = await deps.bundleRefresher.refreshBundleFor(trustDomain, ctx.signal);
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to refresh bundle", err);
      }
      if (!managed) throw apiError(Code.NOT_FOUND, `no relationship with trust domain ${JSON.stringify(trustDomain.name)}`);
      return {};
    },
  };
}

function inputStatus(err: unknown) {
  if (err instanceof RelationshipInputError) {
    return itemStatus(Code.INVALID_ARGUMENT, "failed to convert federation relationship", err.message);
  }
  return itemStatus(Code.INTERNAL, "failed to convert federation relationship", err);
}

function isCode(err: unknown, code: Code): boolean {
  return err instanceof RpcError && err.code === code;
}
