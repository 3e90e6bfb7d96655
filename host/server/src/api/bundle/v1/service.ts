import { type AsyncService, Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import { DeleteBundleRequest_Mode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import {
  BatchDeleteFederatedBundleRequest_Mode,
  BundleService,
} from "@signet/proto/spire/api/server/bundle/v1/bundle";
import type { Bundle, BundleMask, JWTKey } from "@signet/proto/spire/api/types/bundle";
import type { Status } from "@signet/proto/spire/api/types/status";
import { TrustDomain, TrustDomainError } from "@signet/spiffe";
import type { DataStore } from "../../../datastore/datastore.js";
import { apiError, itemStatus, okStatus } from "../../status.js";
import { AuthorityError, applyBundleMask, bundleFromApi, parseJwtAuthorities, parseX509Authorities } from "./convert.js";

/** The DataStore calls the Bundle API makes. */
export type BundleDataStore = Pick<
  DataStore,
  "countBundles" | "fetchBundle" | "appendBundle" | "listBundles" | "createBundle" | "setBundle" | "updateBundle" | "deleteBundle"
>;

/**
 * Publishes a JWT authority received from a downstream server (SPIRE's
 * UpstreamPublisher): the CA adds it to the local bundle, and pushes it
 * upstream when an UpstreamAuthority is configured. Returns the bundle's JWT
 * authorities afterwards.
 */
export type PublishJwtKey = (key: JWTKey, signal: AbortSignal) => Promise<JWTKey[]>;

export interface BundleServiceDeps {
  readonly dataStore: BundleDataStore;
  readonly trustDomain: TrustDomain;
  readonly publishJwtKey: PublishJwtKey;
}

/** spire.api.server.bundle.v1.Bundle */
export function bundleService(deps: BundleServiceDeps): ServiceRegistration {
  return implement(BundleService, bundleServiceImpl(deps));
}

export function bundleServiceImpl(deps: BundleServiceDeps): AsyncService<typeof BundleService> {
  const { dataStore: ds, trustDomain: td } = deps;

  /** The trust domain a federated-bundle request names; refuses our own with SPIRE's per-RPC wording. */
  const foreign = (name: string, ownMessage: string): TrustDomain | Status => {
    let parsed: TrustDomain;
    try {
      parsed = TrustDomain.parse(name);
    } catch (err) {
      return itemStatus(Code.INVALID_ARGUMENT, "trust domain argument is not valid", reason(err));
    }
    if (parsed.equals(td)) return itemStatus(Code.INVALID_ARGUMENT, ownMessage);
    return parsed;
  };

  /**
   * The Batch{Create,Update,Set}FederatedBundle loop: per input, the trust
   * domain checked, the bundle converted, then `write` (the stored bundle,
   * or the item's failure status); one result per input, in order.
   */
  const writeEach = async (
    inputs: readonly Bundle[],
    ownMessage: string,
    outputMask: BundleMask | undefined,
    write: (bundle: Bundle) => Promise<Bundle | undefined | Status>,
  ): Promise<{ results: { status: Status; bundle: Bundle | undefined }[] }> => {
    const results = [];
    for (const input of inputs) {
      const parsed = foreign(input.trustDomain, ownMessage);
      if (!(parsed instanceof TrustDomain)) {
        results.push({ status: parsed, bundle: undefined });
        continue;
      }
      const converted = convertOrStatus(input, parsed);
      if (!("trustDomain" in converted)) {
        results.push({ status: converted, bundle: undefined });
        continue;
      }
      const written = await write(converted);
      if (written !== undefined && "code" in written) results.push({ status: written, bundle: undefined });
      else results.push({ status: okStatus(), bundle: written && applyBundleMask(written, outputMask) });
    }
    return { results };
  };

  return {
    async countBundles() {
      try {
        return { count: (await ds.countBundles({})).count };
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to count bundles", err);
      }
    },

    async getBundle(req) {
      const bundle = await fetchBundle(ds, td.name);
      return applyBundleMask(bundle, req.outputMask);
    },

    async appendBundle(req) {
      if (req.jwtAuthorities.length === 0 && req.x509Authorities.length === 0) {
        throw apiError(Code.INVALID_ARGUMENT, "no authorities to append");
      }
      let jwtAuthorities: JWTKey[];
      try {
        jwtAuthorities = parseJwtAuthorities(req.jwtAuthorities);
      } catch (err) {
        throw apiError(Code.INVALID_ARGUMENT, "failed to convert JWT authority", reason(err));
      }
      let x509Authorities: Bundle["x509Authorities"];
      try {
        x509Authorities = parseX509Authorities(req.x509Authorities);
      } catch (err) {
        throw apiError(Code.INVALID_ARGUMENT, "failed to convert X.509 authority", reason(err));
      }
      let bundle: Bundle | undefined;
      try {
        bundle = (
          await ds.appendBundle({
            bundle: {
              trustDomain: td.name,
              x509Authorities,
              jwtAuthorities,
              refreshHint: 0n,
              sequenceNumber: 0n,
              witAuthorities: [],
            },
          })
        ).bundle;
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to append bundle", err);
      }
      if (!bundle) throw apiError(Code.INTERNAL, "failed to append bundle", "datastore returned no bundle");
      return applyBundleMask(bundle, req.outputMask);
    },

    async publishJwtAuthority(req, ctx) {
      if (!req.jwtAuthority) throw apiError(Code.INVALID_ARGUMENT, "missing JWT authority");
      let key: JWTKey;
      try {
        key = parseJwtAuthorities([req.jwtAuthority])[0] as JWTKey;
      } catch (err) {
        throw apiError(Code.INVALID_ARGUMENT, "invalid JWT authority", reason(err));
      }
      try {
        return { jwtAuthorities: await deps.publishJwtKey(key, ctx.signal) };
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to publish JWT key", err);
      }
    },

    async publishWitAuthority() {
      throw apiError(Code.UNIMPLEMENTED, "WIT-SVID functionality is not yet implemented");
    },

    async listFederatedBundles(req) {
      let page: { bundles: Bundle[]; nextPageToken: string };
      try {
        page = await ds.listBundles({ pageSize: req.pageSize > 0 ? req.pageSize : 0, pageToken: req.pageSize > 0 ? req.pageToken : "" });
      } catch (err) {
        throw apiError(Code.INTERNAL, "failed to list bundles", err);
      }
      return {
        bundles: page.bundles.filter((b) => b.trustDomain !== td.name).map((b) => applyBundleMask(b, req.outputMask)),
        nextPageToken: req.pageSize > 0 ? page.nextPageToken : "",
      };
    },

    async getFederatedBundle(req) {
      const parsed = foreign(req.trustDomain, "getting a federated bundle for the server's own trust domain is not allowed");
      if (!(parsed instanceof TrustDomain)) throw new RpcError(parsed.code, parsed.message);
      return applyBundleMask(await fetchBundle(ds, parsed.name), req.outputMask);
    },

    async batchCreateFederatedBundle(req) {
      return writeEach(req.bundle, "creating a federated bundle for the server's own trust domain is not allowed", req.outputMask, async (bundle) => {
        try {
          return (await ds.createBundle({ bundle })).bundle;
        } catch (err) {
          return isCode(err, Code.ALREADY_EXISTS)
            ? itemStatus(Code.ALREADY_EXISTS, "bundle already exists")
            : itemStatus(Code.INTERNAL, "unable to create bundle", err);
        }
      });
    },

    async batchUpdateFederatedBundle(req) {
      return writeEach(req.bundle, "updating a federated bundle for the server's own trust domain is not allowed", req.outputMask, async (bundle) => {
        try {
          return (await ds.updateBundle({ bundle, inputMask: req.inputMask && { ...req.inputMask, witAuthorities: false } })).bundle;
        } catch (err) {
          return isCode(err, Code.NOT_FOUND) ? itemStatus(Code.NOT_FOUND, "bundle not found") : itemStatus(Code.INTERNAL, "failed to update bundle", err);
        }
      });
    },

    async batchSetFederatedBundle(req) {
      return writeEach(req.bundle, "setting a federated bundle for the server's own trust domain is not allowed", req.outputMask, async (bundle) => {
        try {
          return (await ds.setBundle({ bundle })).bundle;
        } catch (err) {
          return itemStatus(Code.INTERNAL, "failed to set bundle", err);
        }
      });
    },

    async batchDeleteFederatedBundle(req) {
      const mode = deleteModes.get(req.mode);
      if (mode === undefined) {
        throw apiError(Code.INVALID_ARGUMENT, "failed to parse deletion mode", `unhandled delete mode ${JSON.stringify(String(req.mode))}`);
      }
      const results = [];
      for (const trustDomain of req.trustDomains) {
        const parsed = foreign(trustDomain, "removing the bundle for the server trust domain is not allowed");
        if (!(parsed instanceof TrustDomain)) {
          results.push({ status: parsed, trustDomain });
          continue;
        }
        try {
          await ds.deleteBundle({ trustDomain: parsed.name, mode });
          results.push({ status: okStatus(), trustDomain });
        } catch (err) {
          const code = err instanceof RpcError && err.code !== Code.UNKNOWN ? err.code : Code.INTERNAL;
          results.push({
            status:
              code === Code.NOT_FOUND
                ? itemStatus(Code.NOT_FOUND, "bundle not found")
                : itemStatus(code, "failed to delete federated bundle", err),
            trustDomain,
          });
        }
      }
      return { results };
    },
  };
}

const deleteModes = new Map<number, DeleteBundleRequest_Mode>([
  [BatchDeleteFederatedBundleRequest_Mode.RESTRICT, DeleteBundleRequest_Mode.RESTRICT],
  [BatchDeleteFederatedBundleRequest_Mode.DELETE, DeleteBundleRequest_Mode.DELETE],
  [BatchDeleteFederatedBundleRequest_Mode.DISSOCIATE, DeleteBundleRequest_Mode.DISSOCIATE],
]);

async function fetchBundle(ds: BundleDataStore, trustDomain: string): Promise<Bundle> {
  let bundle: Bundle | undefined;
  try {
    bundle = (await ds.fetchBundle({ trustDomain })).bundle;
  } catch (err) {
    if (isCode(err, Code.NOT_FOUND)) throw apiError(Code.NOT_FOUND, "bundle not found");
    throw apiError(Code.INTERNAL, "failed to fetch bundle", err);
  }
  if (!bundle) throw apiError(Code.NOT_FOUND, "bundle not found");
  return bundle;
}

function convertOrStatus(input: Bundle, td: TrustDomain): Bundle | Status {
  try {
    return bundleFromApi(input, td);
  } catch (err) {
    if (err instanceof AuthorityError) return itemStatus(Code.INVALID_ARGUMENT, "failed to convert bundle", err.message);
    throw err;
  }
}

function isCode(err: unknown, code: Code): boolean {
  return err instanceof RpcError && err.code === code;
}

function reason(err: unknown): string {
  if (err instanceof TrustDomainError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

export type { BundleMask };
