/**
 * Workload API messages → typed values, with go-spiffe's rules (workloadapi/client.go): one bad
 * SVID or bundle fails the whole message; later SVIDs repeating a non-empty hint are skipped;
 * bundles are keyed by TrustDomainFromString of the map key or SVID ID.
 */
import type {
  JWTBundlesResponse,
  JWTSVIDResponse,
  X509BundlesResponse,
  X509SVIDResponse,
} from "@signet/proto/workload/workload";
import { TrustDomain } from "../id/index.js";
import { JwtBundle, JwtBundleSet } from "../jwtbundle/index.js";
import { X509Bundle, X509BundleSet } from "../x509bundle/index.js";
import { X509Svid } from "../x509svid/index.js";
import { type JwtSvid, parseJwtSvidFromWorkloadApi } from "./jwt-svid.js";

/** What FetchX509SVID streams: the workload's X509-SVIDs and the bundles to verify peers with. */
export interface X509Context {
  /** At least one; the first is the default identity. */
  readonly svids: readonly X509Svid[];
  readonly bundles: X509BundleSet;
}

/** A message that does not parse; the stream goes on and earlier state is kept. */
export class WorkloadApiResponseError extends Error {
  override readonly name = "WorkloadApiResponseError";
}

export function x509ContextFrom(resp: X509SVIDResponse): X509Context {
  const svids = x509SvidsFrom(resp, false);
  const bundles: X509Bundle[] = [];
  wrap(() => {
    for (const s of resp.svids) bundles.push(X509Bundle.parseRaw(TrustDomain.parse(s.spiffeId), s.bundle));
    for (const [td, der] of Object.entries(resp.federatedBundles)) bundles.push(X509Bundle.parseRaw(TrustDomain.parse(td), der));
  });
  return { svids, bundles: new X509BundleSet(bundles) };
}

export function x509SvidsFrom(resp: X509SVIDResponse, firstOnly: boolean): X509Svid[] {
  if (resp.svids.length === 0) throw new WorkloadApiResponseError("no SVIDs in response");
  const picked = withUniqueHints(firstOnly ? resp.svids.slice(0, 1) : resp.svids);
  return wrap(() => picked.map((s) => X509Svid.parseRaw(s.x509Svid, s.x509SvidKey, s.hint)));
}

export function x509BundlesFrom(resp: X509BundlesResponse): X509BundleSet {
  return wrap(() => new X509BundleSet(Object.entries(resp.bundles).map(([td, der]) => X509Bundle.parseRaw(TrustDomain.parse(td), der))));
}

export function jwtBundlesFrom(resp: JWTBundlesResponse): JwtBundleSet {
  return wrap(() => new JwtBundleSet(Object.entries(resp.bundles).map(([td, json]) => JwtBundle.parse(TrustDomain.parse(td), json))));
}

export function jwtSvidsFrom(resp: JWTSVIDResponse, audience: readonly string[], firstOnly: boolean): JwtSvid[] {
  if (resp.svids.length === 0) throw new WorkloadApiResponseError("there were no SVIDs in the response");
  const picked = withUniqueHints(firstOnly ? resp.svids.slice(0, 1) : resp.svids);
  return wrap(() => picked.map((s) => parseJwtSvidFromWorkloadApi(s.svid, audience, s.hint)));
}

function withUniqueHints<T extends { hint: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (item.hint === "") return true;
    if (seen.has(item.hint)) return false;
    seen.add(item.hint);
    return true;
  });
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WorkloadApiResponseError) throw err;
    throw new WorkloadApiResponseError((err as Error).message, { cause: err });
  }
}
