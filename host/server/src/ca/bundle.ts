/**
 * What the CA does to its trust domain's bundle, as pure functions over the
 * stored bundle (SPIRE's datastore TaintX509CA / RevokeX509CA / TaintJWTKey /
 * RevokeJWTKey, with their wording), and the small store interface the CA
 * writes through. The store raises sequence_number on every change.
 */
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import { readCertificate } from "@signet/spiffe";

export type BundleErrorKind = "not-found" | "invalid" | "internal";

/** Why a bundle change was refused; the LocalAuthority API words it "<what failed>: <message>". */
export class BundleError extends Error {
  constructor(
    readonly kind: BundleErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "BundleError";
  }
}

/** The trust domain's bundle as the CA reads and writes it. */
export interface BundleStore {
  /** The bundle, or undefined when the trust domain has none yet. */
  fetch(): Promise<Bundle | undefined>;
  /** Adds authorities not present yet (creating the bundle if needed); resolves to the stored bundle. */
  append(authorities: { readonly x509?: readonly Buffer[]; readonly jwt?: readonly JWTKey[] }): Promise<Bundle>;
  /**
   * Read-modify-write with compare-and-set on sequence_number: `change` gets
   * the stored bundle (an empty one if there is none) and returns the new
   * authorities, or throws a BundleError to abandon the update.
   */
  update(change: (current: Bundle) => Pick<Bundle, "x509Authorities" | "jwtAuthorities">): Promise<Bundle>;
  /** Removes authorities that expired before `expiresBefore`; resolves to whether anything went. */
  prune(expiresBefore: Date): Promise<boolean>;
}

/** SPIRE's authority ID for an X.509 authority: lowercase hex of its SubjectKeyId. */
export function x509AuthorityId(certificate: Buffer): string {
  return readCertificate(certificate).subjectKeyId?.toString("hex") ?? "";
}

function authorityIdOrInternal(der: Buffer, what: string): string {
  try {
    return x509AuthorityId(der);
  } catch (e) {
    throw new BundleError("internal", `failed to parse ${what}: ${(e as Error).message}`);
  }
}

export function taintX509Authority(bundle: Bundle, authorityId: string): Pick<Bundle, "x509Authorities" | "jwtAuthorities"> {
  let found = false;
  const x509Authorities = bundle.x509Authorities.map((a) => {
    if (authorityIdOrInternal(a.asn1, "rootCA") !== authorityId) return a;
    if (a.tainted) throw new BundleError("invalid", "root CA is already tainted");
    found = true;
    return { ...a, tainted: true };
  });
  if (!found) throw new BundleError("not-found", "no ca found with provided subject key ID");
  return { x509Authorities, jwtAuthorities: bundle.jwtAuthorities };
}

export function revokeX509Authority(bundle: Bundle, authorityId: string): Pick<Bundle, "x509Authorities" | "jwtAuthorities"> {
  let found = false;
  const x509Authorities = bundle.x509Authorities.filter((a) => {
    if (authorityIdOrInternal(a.asn1, "root CA") !== authorityId) return true;
    if (!a.tainted) throw new BundleError("invalid", "it is not possible to revoke an untainted root CA");
    found = true;
    return false;
  });
  if (!found) throw new BundleError("not-found", "no root CA found with provided subject key ID");
  return { x509Authorities, jwtAuthorities: bundle.jwtAuthorities };
}

export function taintJwtAuthority(bundle: Bundle, kid: string): Pick<Bundle, "x509Authorities" | "jwtAuthorities"> {
  let found = false;
  const jwtAuthorities = bundle.jwtAuthorities.map((k) => {
    if (k.keyId !== kid) return k;
    if (k.tainted) throw new BundleError("invalid", "key is already tainted");
    if (found) throw new BundleError("internal", "another JWT Key found with the same KeyID");
    found = true;
    return { ...k, tainted: true };
  });
  if (!found) throw new BundleError("not-found", "no JWT Key found with provided key ID");
  return { x509Authorities: bundle.x509Authorities, jwtAuthorities };
}

export function revokeJwtAuthority(bundle: Bundle, kid: string): Pick<Bundle, "x509Authorities" | "jwtAuthorities"> {
  let found = false;
  const jwtAuthorities = bundle.jwtAuthorities.filter((k) => {
    if (k.keyId !== kid) return true;
    if (found) throw new BundleError("internal", "another key found with the same KeyID");
    if (!k.tainted) throw new BundleError("invalid", "it is not possible to revoke an untainted key");
    found = true;
    return false;
  });
  if (!found) throw new BundleError("not-found", "no JWT Key found with provided key ID");
  return { x509Authorities: bundle.x509Authorities, jwtAuthorities };
}

/** A bundle with nothing in it, for stores to start from. */
export function emptyBundle(trustDomain: string): Bundle {
  return { trustDomain, x509Authorities: [], jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] };
}
