/**
 * spire.api.server.svid.v1.SVID: the gRPC edge. BatchNewX509SVID is the hot
 * path: CSRs of a batch are verified together, then the CA signs the whole
 * batch in one call.
 */
import type { Logger } from "@signet/host-common";
import { type AsyncService, type CallContext, Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import {
  type BatchNewX509SVIDResponse_Result,
  type NewX509SVIDParams,
  SVIDService,
} from "@signet/proto/spire/api/server/svid/v1/svid";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { JWTSVID } from "@signet/proto/spire/api/types/jwtsvid";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import type { Status } from "@signet/proto/spire/api/types/status";
import { SpiffeId, type TrustDomain, distinguishedNameFrom } from "@signet/spiffe";
import type { AuthorizedEntries } from "../../../authorizedentries/authorized-entries.js";
import { CaError, type IssuedX509Svid, type ServerCA, type X509SvidRequest } from "../../../ca/authority.js";
import type { DataStore } from "../../../datastore/datastore.js";
import { memberIdFromProto, protoFromId, reasonOf, verifyWorkloadId, workloadIdFromProto } from "../../ids.js";
import { callerOf } from "../../rpccontext/caller.js";
import { apiError, itemStatus, okStatus } from "../../status.js";
import { type CsrCheck, type CsrVerifier, inlineCsrVerifier } from "./csr-verifier.js";
import { checkWildcardOverlap, validateDnsName } from "./dns.js";

export interface SvidServiceDeps {
  readonly trustDomain: TrustDomain;
  readonly ca: ServerCA;
  readonly authorizedEntries: Pick<AuthorizedEntries, "authorizedEntry">;
  /** For NewDownstreamX509CA's bundle roots. */
  readonly dataStore: Pick<DataStore, "fetchBundle">;
  readonly log: Logger;
  /** disable_jwt_svids */
  readonly jwtSvidsDisabled?: boolean;
  /** Defaults to verifying on the calling thread. */
  readonly csrVerifier?: CsrVerifier;
}

export function svidService(deps: SvidServiceDeps): ServiceRegistration {
  return implement(SVIDService, svidHandlers(deps));
}

export function svidHandlers(deps: SvidServiceDeps): AsyncService<typeof SVIDService> {
  const { trustDomain: td, ca, log } = deps;
  const verifier = deps.csrVerifier ?? inlineCsrVerifier();

  const mintJwt = async (protoId: SPIFFEID | undefined, audience: string[], ttl: number, includeJti: boolean): Promise<JWTSVID> => {
    let id: SpiffeId;
    try {
      id = workloadIdFromProto(td, protoId);
    } catch (e) {
      throw apiError(Code.INVALID_ARGUMENT, "invalid SPIFFE ID", e);
    }
    if (audience.length === 0) throw apiError(Code.INVALID_ARGUMENT, "at least one audience is required");
    let issued;
    try {
      issued = await ca.signJwtSvid({ spiffeId: id, audience, ...(ttl > 0 ? { ttlSeconds: ttl } : {}), includeJti });
    } catch (e) {
      if (e instanceof CaError && e.kind === "jwt-disabled") throw apiError(Code.UNIMPLEMENTED, "JWT functionality is disabled");
      throw apiError(Code.INTERNAL, "failed to sign JWT-SVID", e);
    }
    return { token: issued.token, id: protoFromId(id), expiresAt: BigInt(issued.expiresAt), issuedAt: BigInt(issued.issuedAt), hint: "" };
  };

  return {
    async mintX509Svid(req) {
      if (req.csr.length === 0) throw apiError(Code.INVALID_ARGUMENT, "missing CSR");
      const [csr] = await verifier.verify([req.csr]);
      if (!csr!.ok) {
        if (csr!.kind === "signature") throw apiError(Code.INVALID_ARGUMENT, "failed to verify CSR signature", csr!.cause);
        if (csr!.kind === "invalid") throw apiError(Code.INVALID_ARGUMENT, "only one URI SAN is expected");
        throw apiError(Code.INVALID_ARGUMENT, "malformed CSR", csr!.cause);
      }
      const { uriSan, dnsSans, spki, subject } = csr as Extract<CsrCheck, { ok: true }>;
      if (uriSan === undefined) throw apiError(Code.INVALID_ARGUMENT, "CSR URI SAN is required");
      let id: SpiffeId;
      try {
        id = SpiffeId.parse(uriSan);
        verifyWorkloadId(td, id);
      } catch (e) {
        throw apiError(Code.INVALID_ARGUMENT, "CSR URI SAN is invalid", reasonOf(e));
      }
      for (const name of dnsSans) {
        try {
          validateDnsName(name);
        } catch (e) {
          throw apiError(Code.INVALID_ARGUMENT, "CSR DNS name is invalid", e);
        }
      }
      try {
        checkWildcardOverlap(dnsSans);
      } catch (e) {
        throw apiError(Code.INVALID_ARGUMENT, "CSR DNS name contains a wildcard that covers another non-wildcard name", e);
      }
      const [issued] = await signAll(ca, [
        {
          publicKey: spki,
          spiffeId: id,
          dnsNames: dnsSans,
          subject: distinguishedNameFrom(subject),
          ...(req.ttl > 0 ? { ttlSeconds: req.ttl } : {}),
        },
      ]);
      if (issued instanceof Error) throw apiError(caCode(issued), "failed to sign X509-SVID", issued);
      log.debug("Signed X509 SVID", { spiffe_id: id.toString(), serial_number: issued!.serial });
      return { svid: { id: protoFromId(id), certChain: [...issued!.certChain], expiresAt: BigInt(issued!.expiresAt), hint: "" } };
    },

    async mintJwtsvid(req) {
      if (deps.jwtSvidsDisabled) throw apiError(Code.UNIMPLEMENTED, "JWT functionality is disabled");
      return { svid: await mintJwt(req.id, req.audience, req.ttl, false) };
    },

    async mintWitsvid() {
      throw apiError(Code.UNIMPLEMENTED, "WIT functionality is disabled");
    },

    async batchNewWitsvid() {
      throw apiError(Code.UNIMPLEMENTED, "WIT functionality is disabled");
    },

    async batchNewX509Svid(req, ctx) {
      if (req.params.length === 0) throw apiError(Code.INVALID_ARGUMENT, "missing parameters");
      const agentId = callerAgentId(ctx);
      return { results: await batchNewX509Svids(req.params, agentId, deps, verifier) };
    },

    async newJwtsvid(req, ctx) {
      if (deps.jwtSvidsDisabled) throw apiError(Code.UNIMPLEMENTED, "JWT functionality is disabled");
      const agentId = callerAgentId(ctx);
      const entry = deps.authorizedEntries.authorizedEntry(agentId.toString(), req.entryId);
      if (!entry) throw apiError(Code.NOT_FOUND, "entry not found or not authorized");
      const includeJti = entry.additionalAttributes?.jwtSvidIncludeJti ?? false;
      return { svid: await mintJwt(entry.spiffeId, req.audience, entry.jwtSvidTtl, includeJti) };
    },

    async newDownstreamX509Ca(req, ctx) {
      if (!callerOf(ctx).downstream) throw apiError(Code.INTERNAL, "caller is not a downstream workload");
      const [csr] = await verifier.verify([req.csr]);
      if (!csr!.ok) {
        if (csr!.kind === "signature") throw apiError(Code.INVALID_ARGUMENT, "invalid CSR signature", csr!.cause);
        throw apiError(Code.INVALID_ARGUMENT, "malformed CSR", csr!.cause);
      }
      let issued;
      try {
        issued = await ca.signDownstreamX509Ca({
          publicKey: csr!.spki,
          ...(req.preferredTtl > 0 ? { ttlSeconds: req.preferredTtl } : {}),
        });
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to sign downstream X.509 CA", e);
      }
      let roots: Buffer[];
      try {
        const { bundle } = await deps.dataStore.fetchBundle({ trustDomain: td.name });
        if (!bundle) throw new RpcError(Code.NOT_FOUND, "bundle not found");
        roots = bundle.x509Authorities.map((a) => a.asn1);
      } catch (e) {
        if (e instanceof RpcError && e.code === Code.NOT_FOUND) throw apiError(Code.NOT_FOUND, "bundle not found");
        throw apiError(Code.INTERNAL, "failed to fetch bundle", e);
      }
      return { caCertChain: [...issued.caCertChain], x509Authorities: roots };
    },
  };
}

/**
 * BatchNewX509SVID's items: cheap checks and the authorization lookup first,
 * then every surviving CSR is verified at once, then one CA call signs them
 * all. One result per item, in request order.
 */
async function batchNewX509Svids(
  params: readonly NewX509SVIDParams[],
  agentId: SpiffeId,
  deps: SvidServiceDeps,
  verifier: CsrVerifier,
): Promise<BatchNewX509SVIDResponse_Result[]> {
  const results: BatchNewX509SVIDResponse_Result[] = params.map(() => ({ status: undefined, svid: undefined }));
  const pending: { index: number; entry: Entry }[] = [];
  params.forEach((p, index) => {
    if (p.entryId === "") results[index]!.status = itemStatus(Code.INVALID_ARGUMENT, "missing entry ID");
    else if (p.csr.length === 0) results[index]!.status = itemStatus(Code.INVALID_ARGUMENT, "missing CSR");
    else {
      const entry = deps.authorizedEntries.authorizedEntry(agentId.toString(), p.entryId);
      if (!entry) results[index]!.status = itemStatus(Code.NOT_FOUND, "entry not found or not authorized");
      else pending.push({ index, entry });
    }
  });

  const checks = pending.length > 0 ? await verifier.verify(pending.map((p) => params[p.index]!.csr)) : [];
  const toSign: { index: number; entry: Entry; request: X509SvidRequest }[] = [];
  pending.forEach((p, i) => {
    const csr = checks[i]!;
    const fail = (status: Status) => {
      results[p.index]!.status = status;
    };
    if (!csr.ok) {
      if (csr.kind === "signature") return fail(itemStatus(Code.INVALID_ARGUMENT, "invalid CSR signature", csr.cause));
      return fail(itemStatus(Code.INVALID_ARGUMENT, "malformed CSR", csr.cause));
    }
    let spiffeId: SpiffeId;
    try {
      spiffeId = memberIdFromProto(deps.trustDomain, p.entry.spiffeId);
    } catch (e) {
      return fail(itemStatus(Code.INTERNAL, "entry has malformed SPIFFE ID", e));
    }
    toSign.push({
      index: p.index,
      entry: p.entry,
      request: {
        publicKey: csr.spki,
        spiffeId,
        dnsNames: p.entry.dnsNames,
        ...(p.entry.x509SvidTtl > 0 ? { ttlSeconds: p.entry.x509SvidTtl } : {}),
      },
    });
  });

  if (toSign.length > 0) {
    const issued = await signAll(deps.ca, toSign.map((s) => s.request));
    toSign.forEach((s, i) => {
      const svid = issued[i];
      const result = results[s.index]!;
      if (!svid || svid instanceof Error) {
        result.status = itemStatus(svid ? caCode(svid) : Code.INTERNAL, "failed to sign X509-SVID", svid ?? "no result");
        return;
      }
      result.status = okStatus();
      result.svid = { id: s.entry.spiffeId, certChain: [...svid.certChain], expiresAt: BigInt(svid.expiresAt), hint: "" };
    });
  }
  return results;
}

/** One CA round trip; a failure of the whole call becomes every item's error. */
async function signAll(ca: ServerCA, requests: readonly X509SvidRequest[]): Promise<Array<IssuedX509Svid | Error>> {
  try {
    return await ca.signWorkloadX509Svids(requests);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return requests.map(() => err);
  }
}

/** CaError kinds as the authority documents them; SPIRE says Internal for everything else. */
function caCode(e: Error): Code {
  if (!(e instanceof CaError)) return Code.INTERNAL;
  switch (e.kind) {
    case "not-ready":
      return Code.UNAVAILABLE;
    case "jwt-disabled":
      return Code.UNIMPLEMENTED;
    case "invalid":
      return Code.INVALID_ARGUMENT;
    case "internal":
      return Code.INTERNAL;
  }
}

function callerAgentId(ctx: CallContext): SpiffeId {
  const id = callerOf(ctx).agentId;
  if (!id) throw apiError(Code.INTERNAL, "caller ID missing from request context");
  return id;
}

