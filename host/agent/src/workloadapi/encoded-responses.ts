/**
 * Workload API answers that many callers receive unchanged, built and
 * encoded once. A FetchX509SVID message depends only on the caller's
 * identities (entry and SVID objects), the bundle and the federated
 * bundles, all of which the cache replaces rather than changes in place;
 * callers whose state is the very same objects share one response object,
 * and the service's serializer encodes each such object once.
 *
 * Nothing here decides what a caller may see: the state comes from the
 * cache for the caller's own selectors, and a response is only reused for a
 * state made of the same objects.
 */
import type { X509SvidRecord } from "../manager/x509-svid.js";
import type { WorkloadUpdate } from "../manager/cache.js";

/** Responses kept per first SVID; a workload's state differs from another's sharing that SVID only in rare setups. */
const perSvidLimit = 8;

export class SharedResponses<R extends object> {
  private readonly byFirstSvid = new WeakMap<X509SvidRecord, { readonly state: WorkloadUpdate; readonly response: R }[]>();

  constructor(
    private readonly build: (state: WorkloadUpdate) => R,
    private readonly same: (a: WorkloadUpdate, b: WorkloadUpdate) => boolean,
  ) {}

  /** The response for `state`: a shared one built for the same objects, or a new one (then shared). */
  for(state: WorkloadUpdate): R {
    const first = state.identities[0]?.svid;
    if (!first) return this.build(state);
    let kept = this.byFirstSvid.get(first);
    const hit = kept?.find((k) => this.same(k.state, state));
    if (hit) return hit.response;
    const response = this.build(state);
    if (!kept) this.byFirstSvid.set(first, (kept = []));
    if (kept.length >= perSvidLimit) kept.shift();
    kept.push({ state, response });
    return response;
  }
}

/**
 * A serializer that encodes each response object once: the bytes are kept
 * beside the object (weakly) and sent again for every caller it is shared
 * with. Only for objects never changed after they were first sent.
 */
export function encodeOnce<T extends object>(serialize: (value: T) => Buffer): (value: T) => Buffer {
  const bytes = new WeakMap<T, Buffer>();
  return (value) => {
    let b = bytes.get(value);
    if (!b) bytes.set(value, (b = serialize(value)));
    return b;
  };
}

/** A JWT-SVID as FetchJWTSVID answers it. */
export interface JwtSvidAnswer {
  readonly spiffeId: string;
  readonly svid: string;
  readonly hint: string;
}

/**
 * FetchJWTSVID answers for tokens served again from the agent's JWT-SVID
 * cache: the same tokens (with the same SPIFFE IDs and hints, in the same
 * order) get the same response object, so it is encoded once. At most
 * `limit` answers are kept, the oldest dropped first.
 */
export class SharedJwtResponses {
  private readonly byTokens = new Map<string, { readonly svids: readonly JwtSvidAnswer[] }>();

  constructor(private readonly limit = 256) {}

  for(svids: readonly JwtSvidAnswer[]): { readonly svids: readonly JwtSvidAnswer[] } {
    // Tokens are three base64url parts joined by dots: a space never occurs in one.
    const key = svids.length === 1 ? svids[0]!.svid : svids.map((s) => s.svid).join(" ");
    const kept = this.byTokens.get(key);
    if (kept && kept.svids.length === svids.length && kept.svids.every((s, i) => s.spiffeId === svids[i]!.spiffeId && s.svid === svids[i]!.svid && s.hint === svids[i]!.hint)) return kept;
    const response = { svids };
    this.byTokens.delete(key);
    this.byTokens.set(key, response);
    if (this.byTokens.size > this.limit) this.byTokens.delete(this.byTokens.keys().next().value!);
    return response;
  }
}
