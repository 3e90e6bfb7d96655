/**
 * JWT bundles as the Workload API delivers them: per trust domain, the JWT-SVID signing keys
 * by key ID, sent as a plain JWK Set (go-spiffe's jwtbundle).
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { BundleError } from "../bundle/authorities.js";
import type { TrustDomain } from "../id/index.js";

/** The JWT authorities of one trust domain, by key ID. */
export class JwtBundle {
  constructor(
    readonly trustDomain: TrustDomain,
    readonly jwtAuthorities: ReadonlyMap<string, KeyObject>,
  ) {}

  /**
   * go-spiffe's jwtbundle.Parse: a JWK Set whose every key (whatever its `use`) becomes an
   * authority; each needs a non-empty `kid`; a key type other than EC, RSA or OKP fails the
   * whole set. A document without `keys` is an empty bundle.
   */
  static parse(trustDomain: TrustDomain, json: string | Uint8Array): JwtBundle {
    const text = typeof json === "string" ? json : Buffer.from(json).toString("utf8");
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new BundleError(`jwtbundle: unable to parse JWKS: ${(err as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new BundleError("jwtbundle: unable to parse JWKS: not a JSON object");
    }
    const keys = (doc as Record<string, unknown>).keys ?? [];
    if (!Array.isArray(keys)) throw new BundleError("jwtbundle: unable to parse JWKS: keys is not an array");
    const authorities = new Map<string, KeyObject>();
    keys.forEach((raw, i) => {
      if (typeof raw !== "object" || raw === null) throw new BundleError(`jwtbundle: unable to parse JWKS: key ${i} is not an object`);
      const jwk = raw as Record<string, unknown>;
      const key = publicKeyOf(jwk, i);
      const kid = typeof jwk.kid === "string" ? jwk.kid : "";
      if (kid === "") throw new BundleError(`jwtbundle: error adding authority ${i} of JWKS: keyID cannot be empty`);
      authorities.set(kid, key);
    });
    return new JwtBundle(trustDomain, authorities);
  }

  findJwtAuthority(keyId: string): KeyObject | undefined {
    return this.jwtAuthorities.get(keyId);
  }
}

/** Anything that can answer "which JWT authorities does this trust domain have?". */
export interface JwtBundleSource {
  /** The bundle of `trustDomain`; throws BundleError when there is none. */
  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle;
}

/** JWT bundles of several trust domains, one per domain. */
export class JwtBundleSet implements JwtBundleSource {
  private readonly byName: ReadonlyMap<string, JwtBundle>;

  constructor(bundles: Iterable<JwtBundle> = []) {
    const map = new Map<string, JwtBundle>();
    for (const b of bundles) map.set(b.trustDomain.name, b);
    this.byName = map;
  }

  get size(): number {
    return this.byName.size;
  }

  bundles(): JwtBundle[] {
    return [...this.byName.values()].sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : 1));
  }

  get(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.byName.get(trustDomain.name);
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle {
    const bundle = this.byName.get(trustDomain.name);
    if (!bundle) throw new BundleError(`jwtbundle: no JWT bundle for trust domain "${trustDomain.name}"`);
    return bundle;
  }
}

function publicKeyOf(jwk: Record<string, unknown>, i: number): KeyObject {
  if (jwk.kty !== "EC" && jwk.kty !== "RSA" && jwk.kty !== "OKP") {
    throw new BundleError(`jwtbundle: unable to parse JWKS: unknown json web key type '${String(jwk.kty)}'`);
  }
  try {
    const publicOnly: JsonWebKey = { kty: jwk.kty };
    for (const m of ["crv", "x", "y", "n", "e"]) if (typeof jwk[m] === "string") publicOnly[m] = jwk[m];
    return createPublicKey({ key: publicOnly, format: "jwk" });
  } catch {
    throw new BundleError(`jwtbundle: unable to parse JWKS: invalid key parameters in entry ${i}`);
  }
}
