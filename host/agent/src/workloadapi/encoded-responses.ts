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
