/**
 * JwtSource (go-spiffe's workloadapi.JWTSource): JWT bundles kept current by a FetchJWTBundles
 * watch, and JWT-SVIDs fetched on demand. create() returns once the first bundles arrived.
 */
import { TrustDomain } from "../id/index.js";
import { validateJwtSvid } from "../jwt/index.js";
import type { JwtBundle, JwtBundleSet, JwtBundleSource } from "../jwtbundle/index.js";
import type { FetchOptions, JwtSvidParams } from "./client.js";
import type { JwtSvid } from "./jwt-svid.js";
import { SourceCore, type SourceOptions } from "./source-core.js";
import type { UpdatingSource } from "./x509-source.js";

export class JwtSource implements JwtBundleSource, UpdatingSource {
  private constructor(private readonly core: SourceCore<JwtBundleSet>) {}

  static async create(options: SourceOptions = {}): Promise<JwtSource> {
    const core = new SourceCore<JwtBundleSet>("jwtsource", options);
    const source = new JwtSource(core);
    await core.start((client, watcher, signal) => client.watchJwtBundles(watcher, signal));
    return source;
  }

  fetchJwtSvid(params: JwtSvidParams, options?: FetchOptions): Promise<JwtSvid> {
    this.core.current();
    return this.core.client.fetchJwtSvid(params, options);
  }

  fetchJwtSvids(params: JwtSvidParams, options?: FetchOptions): Promise<JwtSvid[]> {
    this.core.current();
    return this.core.client.fetchJwtSvids(params, options);
  }

  get bundles(): JwtBundleSet {
    return this.core.current();
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle {
    return this.core.current().getJwtBundleForTrustDomain(trustDomain);
  }

  /**
   * Validates `token` locally against the bundles (go-spiffe's jwtsvid.ParseAndValidate):
   * signature by the key of the token's trust domain, times, and `audience`.
   */
  validateJwtSvid(token: string, audience: readonly string[]): JwtSvid {
    const bundles = this.core.current();
    const parsed = validateJwtSvid(token, {
      audience,
      keyFor: (td, kid) => bundles.get(TrustDomain.parse(td))?.findJwtAuthority(kid),
    });
    return { spiffeId: parsed.spiffeId, token, audience: parsed.audience, expiry: new Date(parsed.expiresAt * 1000), hint: "", claims: parsed.claims };
  }

  subscribe(listener: (bundles: JwtBundleSet) => void): () => void {
    return this.core.subscribe(listener);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
