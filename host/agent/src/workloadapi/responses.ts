/**
 * Workload API messages from the cache's state (spiffe-standards.md 5.4):
 * DER chains and bundles concatenated, keys as PKCS#8 DER, bundles keyed by
 * `spiffe://<td>`, JWT bundles as plain JWKS with JWT keys only.
 */
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { JWTBundlesResponse, X509BundlesResponse, X509SVIDResponse } from "@signet/proto/workload/workload";
import { marshalBundle } from "@signet/spiffe";
import type { WorkloadUpdate } from "../manager/cache.js";

export function x509SvidResponse(update: WorkloadUpdate): X509SVIDResponse {
  const bundle = update.bundle ? x509Roots(update.bundle) : Buffer.alloc(0);
  const federatedBundles: Record<string, Buffer> = {};
  for (const [td, b] of update.federatedBundles) federatedBundles[`spiffe://${td}`] = x509Roots(b);
  return {
    svids: update.identities.map(({ entry, svid }) => ({
      spiffeId: svid.spiffeId,
      x509Svid: Buffer.concat(svid.chain as Buffer[]),
      x509SvidKey: svid.keyDer,
      bundle,
      hint: entry.hint,
    })),
    crl: [],
    federatedBundles,
  };
}

export function x509BundlesResponse(own: Bundle | undefined, federated: ReadonlyMap<string, Bundle>): X509BundlesResponse {
  const bundles: Record<string, Buffer> = {};
  if (own) bundles[`spiffe://${own.trustDomain}`] = x509Roots(own);
  for (const [td, b] of federated) bundles[`spiffe://${td}`] = x509Roots(b);
  return { crl: [], bundles };
}

export function jwtBundlesResponse(own: Bundle | undefined, federated: ReadonlyMap<string, Bundle>): JWTBundlesResponse {
  const bundles: Record<string, Buffer> = {};
  if (own) bundles[`spiffe://${own.trustDomain}`] = jwks(own);
  for (const [td, b] of federated) bundles[`spiffe://${td}`] = jwks(b);
  return { bundles };
}

// Bundles are replaced, never changed in place (AgentCache), so each one is
// encoded once however many streams carry it (a rotation fans out to all).
const rootsOf = new WeakMap<Bundle, Buffer>();
const jwksOf = new WeakMap<Bundle, Buffer>();

function x509Roots(b: Bundle): Buffer {
  let der = rootsOf.get(b);
  if (!der) rootsOf.set(b, (der = Buffer.concat(b.x509Authorities.map((a) => a.asn1))));
  return der;
}

function jwks(b: Bundle): Buffer {
  let json = jwksOf.get(b);
  if (!json) jwksOf.set(b, (json = Buffer.from(marshalBundle(b, { standardJwks: true, noX509SvidKeys: true, noWitSvidKeys: true, indent: "" }))));
  return json;
}
