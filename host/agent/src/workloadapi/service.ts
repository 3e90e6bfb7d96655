/**
 * The SPIFFE Workload API as SPIRE's agent serves it (spiffe-standards.md
 * 5.6): every call checks the security header, identifies the caller from
 * kernel facts only (`attestCaller`, given the call), and answers from the
 * cache. Streams send the complete state first and again on every change;
 * a caller with no identity gets PermissionDenied "no identity issued".
 */
import type { Selector } from "@signet/host-common";
import { type CallContext, Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import {
  type JWTSVIDRequest,
  type JWTSVIDResponse,
  SpiffeWorkloadAPIService,
  type ValidateJWTSVIDRequest,
  type ValidateJWTSVIDResponse,
  type X509SVIDResponse,
} from "@signet/proto/workload/workload";
import { JwtSvidError, parsePkixPublicKey, SpiffeId, validateJwtSvid } from "@signet/spiffe";
import type { AgentCache, WorkloadUpdate } from "../manager/cache.js";
import { spiffeIdOf } from "../manager/manager.js";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { encodeOnce, SharedJwtResponses, SharedResponses } from "./encoded-responses.js";
import { jwtBundlesResponse, x509BundlesResponse, x509SvidResponse } from "./responses.js";
import { checkSecurityHeader } from "./security-header.js";

export interface WorkloadApiDeps {
  readonly cache: AgentCache;
  /** The caller's selectors, from the peer's PID (throws an RpcError when it cannot be attested). */
  readonly attestCaller: (ctx: CallContext) => Promise<Selector[]>;
  readonly fetchJwtSvid: (entry: Entry, audience: readonly string[]) => Promise<string>;
  readonly trustDomain: string;
  readonly allowUnauthenticatedVerifiers: boolean;
  readonly allowedForeignJwtClaims: readonly string[];
}

const noIdentity = () => new RpcError(Code.PERMISSION_DENIED, "no identity issued");

/**
 * The Workload API definition as this agent serves it: FetchX509SVID messages
 * are shared by callers in the same state (SharedResponses) and FetchJWTSVID
 * answers by calls served the same cached tokens (SharedJwtResponses), so
 * each is encoded once however many callers it goes to.
 */
const servedDefinition = {
  ...SpiffeWorkloadAPIService,
  fetchX509Svid: { ...SpiffeWorkloadAPIService.fetchX509Svid, responseSerialize: encodeOnce(SpiffeWorkloadAPIService.fetchX509Svid.responseSerialize) },
  fetchJwtsvid: { ...SpiffeWorkloadAPIService.fetchJwtsvid, responseSerialize: encodeOnce(SpiffeWorkloadAPIService.fetchJwtsvid.responseSerialize) },
};

const sameX509State = (a: WorkloadUpdate, b: WorkloadUpdate) => a.bundle === b.bundle && sameIdentities(a, b) && sameMap(a.federatedBundles, b.federatedBundles);

export function workloadApiService(deps: WorkloadApiDeps): ServiceRegistration {
  const { cache } = deps;
  const x509Responses = new SharedResponses(x509SvidResponse, sameX509State);
  const jwtResponses = new SharedJwtResponses();

  async function* watch<T>(ctx: CallContext, render: (u: WorkloadUpdate) => T | undefined, same: (a: WorkloadUpdate, b: WorkloadUpdate) => boolean): AsyncGenerator<T> {
    checkSecurityHeader(ctx.metadata);
    const selectors = await deps.attestCaller(ctx);
    const sub = cache.subscribe(selectors);
    try {
      let last: WorkloadUpdate | undefined;
      while (!ctx.signal.aborted) {
        const changed = sub.changed(ctx.signal);
        const update = sub.current();
        // The first message waits until every SVID the caller is entitled to is cached (SPIRE's rule).
        if (!last && update.pending > 0) {
          await changed;
          continue;
        }
        if (!last || !same(last, update)) {
          const msg = render(update);
          if (msg !== undefined) {
            yield msg;
            last = update;
          }
        }
        await changed;
      }
    } finally {
      sub.unsubscribe();
    }
  }

  /**
   * FetchX509Bundles and FetchJWTBundles: the own bundle and the caller's
   * federated ones, re-sent when they change; no identity is PermissionDenied
   * unless allow_unauthenticated_verifiers (then the own bundle only).
   */
  function bundleStream<T>(ctx: CallContext, render: (own: Bundle | undefined, federated: ReadonlyMap<string, Bundle>) => T): AsyncGenerator<T> {
    return watch<T>(
      ctx,
      (u) => {
        const unauthenticated = u.identities.length === 0;
        if (unauthenticated && u.pending > 0) return undefined;
        if (unauthenticated && !deps.allowUnauthenticatedVerifiers) throw noIdentity();
        return render(u.bundle, unauthenticated ? new Map() : u.federatedBundles);
      },
      (a, b) => a.bundle === b.bundle && a.identities.length > 0 === b.identities.length > 0 && sameMap(a.federatedBundles, b.federatedBundles),
    );
  }

  return implement(servedDefinition, {
    fetchX509Svid: (_req, ctx) =>
      watch<X509SVIDResponse>(
        ctx,
        (u) => {
          if (u.identities.length === 0) {
            if (u.pending === 0) throw noIdentity();
            return undefined;
          }
          return x509Responses.for(u);
        },
        sameX509State,
      ),

    fetchX509Bundles: (_req, ctx) => bundleStream(ctx, x509BundlesResponse),
    fetchJwtBundles: (_req, ctx) => bundleStream(ctx, jwtBundlesResponse),

    async fetchJwtsvid(req: JWTSVIDRequest, ctx: CallContext): Promise<JWTSVIDResponse> {
      checkSecurityHeader(ctx.metadata);
      if (req.audience.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, "audience must be specified");
      if (req.spiffeId !== "") {
        try {
          SpiffeId.parse(req.spiffeId);
        } catch (e) {
          throw new RpcError(Code.INVALID_ARGUMENT, `invalid requested SPIFFE ID: ${(e as Error).message}`);
        }
      }
      const selectors = await deps.attestCaller(ctx);
      let entries = cache.matchingEntries(selectors).sort((a, b) => (a.id < b.id ? -1 : 1));
      entries = dedupeHints(entries);
      if (req.spiffeId !== "") entries = entries.filter((e) => spiffeIdOf(e) === req.spiffeId);
      if (entries.length === 0) throw noIdentity();
      const svids: { spiffeId: string; svid: string; hint: string }[] = [];
      for (const entry of entries) {
        let token: string;
        try {
          token = await deps.fetchJwtSvid(entry, req.audience);
        } catch (e) {
          throw new RpcError(Code.UNAVAILABLE, `could not fetch JWT-SVID: ${e instanceof Error ? e.message : String(e)}`);
        }
        svids.push({ spiffeId: spiffeIdOf(entry), svid: token, hint: entry.hint });
      }
      return jwtResponses.for(svids) as JWTSVIDResponse;
    },

    async validateJwtsvid(req: ValidateJWTSVIDRequest, ctx: CallContext): Promise<ValidateJWTSVIDResponse> {
      checkSecurityHeader(ctx.metadata);
      if (req.audience === "") throw new RpcError(Code.INVALID_ARGUMENT, "audience must be specified");
      if (req.svid === "") throw new RpcError(Code.INVALID_ARGUMENT, "svid must be specified");
      const selectors = await deps.attestCaller(ctx);
      const visible = new Map<string, Bundle>();
      const own = cache.ownBundle;
      if (own) visible.set(own.trustDomain, own);
      const federatesWith = new Set(cache.matchingEntries(selectors).flatMap((e) => e.federatesWith.map((td) => td.replace(/^spiffe:\/\//, ""))));
      for (const [td, b] of cache.federatedBundles) if (federatesWith.has(td)) visible.set(td, b);
      let parsed;
      try {
        parsed = validateJwtSvid(req.svid, {
          audience: [req.audience],
          keyFor: (td, kid) => {
            const key = visible.get(td)?.jwtAuthorities.find((k) => k.keyId === kid);
            return key ? parsePkixPublicKey(key.publicKey) : undefined;
          },
        });
      } catch (e) {
        throw new RpcError(Code.INVALID_ARGUMENT, e instanceof JwtSvidError ? e.message : String(e));
      }
      const claims: Record<string, unknown> = { ...parsed.claims, aud: [...parsed.audience] };
      if (parsed.spiffeId.trustDomain.name !== deps.trustDomain) {
        const allowed = new Set(["sub", "aud", "exp", ...deps.allowedForeignJwtClaims]);
        for (const k of Object.keys(claims)) if (!allowed.has(k)) delete claims[k];
      }
      return { spiffeId: parsed.spiffeId.toString(), claims };
    },

    // The WIT-SVID profile is not served (SPIRE answers the same way).
    async *fetchWitsvid(_req, ctx) {
      checkSecurityHeader(ctx.metadata);
      throw new RpcError(Code.UNIMPLEMENTED, "fetching WIT-SVIDs is not implemented");
    },
    async *fetchWitBundles(_req, ctx) {
      checkSecurityHeader(ctx.metadata);
      throw new RpcError(Code.UNIMPLEMENTED, "fetching WIT bundles is not implemented");
    },
  });
}

function sameIdentities(a: WorkloadUpdate, b: WorkloadUpdate): boolean {
  return a.identities.length === b.identities.length && a.identities.every((x, i) => x.svid === b.identities[i]!.svid && x.entry === b.identities[i]!.entry);
}

function sameMap<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function dedupeHints(entries: Entry[]): Entry[] {
  const seen = new Map<string, Entry>();
  for (const e of entries) {
    if (e.hint === "") continue;
    const have = seen.get(e.hint);
    if (!have || e.createdAt < have.createdAt || (e.createdAt === have.createdAt && e.id < have.id)) seen.set(e.hint, e);
  }
  return entries.filter((e) => e.hint === "" || seen.get(e.hint) === e);
}
