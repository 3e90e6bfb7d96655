/**
 * X.509 bundles as the Workload API delivers them: per trust domain, the CA certificates that
 * X509-SVIDs of that domain must chain to (go-spiffe's x509bundle). Bundles of different trust
 * domains are never merged.
 */
import type { X509Certificate } from "node:crypto";
import { BundleError, parseCertificates } from "../bundle/authorities.js";
import { TrustDomain } from "../id/index.js";

/** The X.509 authorities of one trust domain. */
export class X509Bundle {
  constructor(
    readonly trustDomain: TrustDomain,
    readonly x509Authorities: readonly X509Certificate[],
  ) {}

  /**
   * go-spiffe's x509bundle.ParseRaw: concatenated DER certificates (empty bytes give an empty
   * bundle; PEM or trailing garbage is a BundleError).
   */
  static parseRaw(trustDomain: TrustDomain, der: Uint8Array): X509Bundle {
    try {
      return new X509Bundle(trustDomain, parseCertificates(der));
    } catch (err) {
      throw new BundleError(`x509bundle: cannot parse certificate: ${(err as Error).message}`);
    }
  }

  /** The authorities as one PEM string (for Node's `ca` option). */
  toPem(): string {
    return this.x509Authorities.map((c) => c.toString()).join("");
  }
}

/** Anything that can answer "which X.509 authorities does this trust domain have?". */
export interface X509BundleSource {
  /** The bundle of `trustDomain`; throws BundleError when there is none. */
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle;
}

/** A source that can list every bundle it holds (TLS needs the lot to build its trust store). */
export interface X509BundleSetSource extends X509BundleSource {
  getX509BundleSet(): X509BundleSet;
}

/** Bundles of several trust domains, one per domain (a later bundle for a domain replaces the earlier). */
export class X509BundleSet implements X509BundleSetSource {
  private readonly byName: ReadonlyMap<string, X509Bundle>;

  constructor(bundles: Iterable<X509Bundle> = []) {
    const map = new Map<string, X509Bundle>();
    for (const b of bundles) map.set(b.trustDomain.name, b);
    this.byName = map;
  }

  get size(): number {
    return this.byName.size;
  }

  bundles(): X509Bundle[] {
    return [...this.byName.values()].sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : 1));
  }

  has(trustDomain: TrustDomain): boolean {
    return this.byName.has(trustDomain.name);
  }

  get(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.byName.get(trustDomain.name);
  }

  getX509BundleSet(): X509BundleSet {
    return this;
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle {
    const bundle = this.byName.get(trustDomain.name);
    if (!bundle) throw new BundleError(`x509bundle: no X.509 bundle for trust domain "${trustDomain.name}"`);
    return bundle;
  }
}
