/**
 * spire.api.server.debug.v1.Debug: a snapshot of the server (its SVID chain,
 * uptime, counts), computed at most every 5 seconds as SPIRE does.
 */
import type { X509Certificate } from "node:crypto";
import { type AsyncService, Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { DebugService, type GetInfoResponse, type GetInfoResponse_Cert } from "@signet/proto/spire/api/server/debug/v1/debug";
import { SpiffeId, type TrustDomain, readCertificate } from "@signet/spiffe";
import type { DataStore } from "../../../datastore/datastore.js";
import { protoFromId } from "../../ids.js";
import { apiError } from "../../status.js";
import { goNameString } from "./go-name.js";
import { uriSans, verifiedChain } from "./svid-chain.js";

export const debugCacheMs = 5_000;

export interface DebugServiceDeps {
  readonly trustDomain: TrustDomain;
  readonly dataStore: Pick<DataStore, "countAttestedNodes" | "countEntries" | "countBundles" | "fetchBundle">;
  /** The server's current X509-SVID chain, leaf first (DER). */
  readonly serverSvid: () => readonly Buffer[];
  /** Seconds since the server started. */
  readonly uptime: () => number;
  readonly now?: () => Date;
}

export function debugService(deps: DebugServiceDeps): ServiceRegistration {
  return implement(DebugService, debugHandlers(deps));
}

export function debugHandlers(deps: DebugServiceDeps): AsyncService<typeof DebugService> {
  const now = deps.now ?? (() => new Date());
  let cached: { at: number; response: GetInfoResponse } | undefined;
  // Concurrent callers share one refresh, as SPIRE's mutex makes them.
  let refreshing: Promise<GetInfoResponse> | undefined;

  return {
    async getInfo() {
      if (cached && now().getTime() - cached.at < debugCacheMs) return cached.response;
      refreshing ??= collect(deps, now()).finally(() => {
        refreshing = undefined;
      });
      const response = await refreshing;
      cached = { at: now().getTime(), response };
      return response;
    },
  };
}

async function collect(deps: DebugServiceDeps, at: Date): Promise<GetInfoResponse> {
  const ds = deps.dataStore;
  const agents = await count(() => ds.countAttestedNodes({ filter: undefined }), "failed to count agents");
  const entries = await count(() => ds.countEntries({ filter: undefined }), "failed to count entries");
  const bundles = await count(() => ds.countBundles({}), "failed to count bundles");
  const svidChain = await certificateChain(deps, at);
  return {
    svidChain,
    uptime: Math.trunc(deps.uptime()),
    agentsCount: agents,
    entriesCount: entries,
    federatedBundlesCount: bundles,
  };
}

async function count(call: () => Promise<{ count: number }>, message: string): Promise<number> {
  try {
    return (await call()).count;
  } catch (e) {
    throw apiError(Code.INTERNAL, message, e);
  }
}

async function certificateChain(deps: DebugServiceDeps, at: Date): Promise<GetInfoResponse_Cert[]> {
  let roots: Buffer[];
  try {
    const { bundle } = await deps.dataStore.fetchBundle({ trustDomain: deps.trustDomain.name });
    if (!bundle) throw new RpcError(Code.NOT_FOUND, "trust domain bundle not found");
    roots = bundle.x509Authorities.map((a) => a.asn1);
  } catch (e) {
    if (e instanceof RpcError && e.code === Code.NOT_FOUND) throw apiError(Code.NOT_FOUND, "trust domain bundle not found");
    throw apiError(Code.INTERNAL, "failed to fetch trust domain bundle", e);
  }
  let chain: X509Certificate[];
  try {
    chain = verifiedChain(deps.serverSvid(), roots, at);
  } catch (e) {
    throw apiError(Code.INTERNAL, "failed verification against bundle", e);
  }
  return chain.map((cert) => {
    const fields = readCertificate(cert.raw);
    const uris = uriSans(cert);
    const id = uris.length === 1 ? SpiffeId.tryParse(uris[0]!) : undefined;
    return {
      id: id ? protoFromId(id) : undefined,
      expiresAt: BigInt(Math.floor(fields.notAfter.getTime() / 1000)),
      subject: goNameString(fields.subjectName ?? []),
    };
  });
}
