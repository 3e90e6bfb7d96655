/**
 * When the bundle client polls a bundle endpoint again (SPIRE's
 * bundleutil.CalculateRefreshHint and the client manager's
 * calculateNextUpdate): four attempts per refresh hint, the hint being the
 * bundle's own when positive, else a tenth of its shortest-lived X.509
 * authority, and never under one minute.
 */
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { parseCertificates } from "@signet/spiffe";

/** Polls per refresh hint: more than one, to ride out a failed attempt. */
export const attemptsPerRefreshHint = 4;
/** The smallest refresh hint the client accepts; also the retry interval while no bundle is held. */
export const minimumRefreshHintMs = 60_000;
/** How often relationships are re-read from the config and the datastore. */
export const configRefreshIntervalMs = 10_000;
const refreshHintLeewayFactor = 10;

/** The refresh hint the client goes by for `bundle`, in milliseconds. */
export function calculateRefreshHintMs(bundle: Bundle): number {
  const hintMs = Number(bundle.refreshHint) * 1000;
  if (hintMs > 0) return Math.max(hintMs, minimumRefreshHintMs);
  let smallest = Infinity;
  for (const authority of bundle.x509Authorities) {
    let certs;
    try {
      certs = parseCertificates(authority.asn1);
    } catch {
      continue;
    }
    for (const cert of certs) {
      const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
      if (lifetime < smallest) smallest = lifetime;
    }
  }
  const derived = Number.isFinite(smallest) ? Math.floor(smallest / refreshHintLeewayFactor) : 0;
  return Math.max(derived, minimumRefreshHintMs);
}

/**
 * The wait before the next poll: from the bundle just fetched when it
 * changed, else from the bundle already held, else (nothing held, so
 * https_spiffe cannot even authenticate yet) the minimum hint.
 */
export function nextRefreshMs(fetched: Bundle | undefined, held: Bundle | undefined): number {
  const basis = fetched ?? held;
  if (!basis) return minimumRefreshHintMs;
  return Math.floor(calculateRefreshHintMs(basis) / attemptsPerRefreshHint);
}
