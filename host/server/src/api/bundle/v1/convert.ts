import type { Bundle, BundleMask, JWTKey, X509Certificate } from "@signet/proto/spire/api/types/bundle";
import { BundleError, parseCertificates, parsePkixPublicKey, type TrustDomain } from "@signet/spiffe";

/** An authority in a request that does not parse; the message is SPIRE's cause text. */
export class AuthorityError extends Error {
  override readonly name = "AuthorityError";
}

/** api.ParseX509Authorities: each must hold DER certificate(s); the tainted flag is not taken from callers. */
export function parseX509Authorities(certs: readonly X509Certificate[]): X509Certificate[] {
  return certs.map((c) => {
    try {
      parseCertificates(c.asn1);
    } catch (err) {
      throw new AuthorityError(err instanceof BundleError ? err.message : String(err));
    }
    return { asn1: c.asn1, tainted: false };
  });
}

/** api.ParseJWTAuthorities: PKIX public key and a key ID; the tainted flag is not taken from callers. */
export function parseJwtAuthorities(keys: readonly JWTKey[]): JWTKey[] {
  return keys.map((k) => {
    try {
      parsePkixPublicKey(k.publicKey);
    } catch (err) {
      throw new AuthorityError(err instanceof BundleError ? err.message : String(err));
    }
    if (k.keyId === "") throw new AuthorityError("missing key ID");
    return { publicKey: k.publicKey, keyId: k.keyId, expiresAt: k.expiresAt, tainted: false };
  });
}

/**
 * api.ProtoToBundle for a federated bundle whose trust domain the caller has
 * parsed: authorities checked, refresh hint and sequence number kept. As in
 * SPIRE, WIT authorities are not taken from this path.
 */
export function bundleFromApi(bundle: Bundle, td: TrustDomain): Bundle {
  let x509Authorities: X509Certificate[];
  try {
    x509Authorities = parseX509Authorities(bundle.x509Authorities);
  } catch (err) {
    throw new AuthorityError(`unable to parse X.509 authority: ${(err as Error).message}`);
  }
  let jwtAuthorities: JWTKey[];
  try {
    jwtAuthorities = parseJwtAuthorities(bundle.jwtAuthorities);
  } catch (err) {
    throw new AuthorityError(`unable to parse JWT authority: ${(err as Error).message}`);
  }
  return {
    trustDomain: td.name,
    x509Authorities,
    jwtAuthorities,
    refreshHint: bundle.refreshHint,
    sequenceNumber: bundle.sequenceNumber,
    witAuthorities: [],
  };
}

/** The output mask: absent keeps everything; present keeps trust_domain and the flagged fields. */
export function applyBundleMask(bundle: Bundle, mask: BundleMask | undefined): Bundle {
  if (!mask) return bundle;
  return {
    trustDomain: bundle.trustDomain,
    x509Authorities: mask.x509Authorities ? bundle.x509Authorities : [],
    jwtAuthorities: mask.jwtAuthorities ? bundle.jwtAuthorities : [],
    refreshHint: mask.refreshHint ? bundle.refreshHint : 0n,
    sequenceNumber: mask.sequenceNumber ? bundle.sequenceNumber : 0n,
    witAuthorities: mask.witAuthorities ? bundle.witAuthorities : [],
  };
}
