/**
 * What the CA needs from an UpstreamAuthority plugin (SPIRE's
 * UpstreamAuthority MintX509CAAndSubscribe / PublishJWTKeyAndSubscribe,
 * first answer only). The plugin facade implements this.
 */
import type { JWTKey } from "@signet/proto/spire/api/types/bundle";

export interface UpstreamAuthority {
  /** Plugin name, for logs. */
  readonly name: string;
  /**
   * Signs the server's CA from its PKCS#10 request. `x509CaChain` is the CA
   * first, then any intermediates up to (not including) a root;
   * `upstreamX509Roots` are the roots that go into the bundle.
   */
  mintX509Ca(csr: Buffer, preferredTtlSeconds: number): Promise<{ x509CaChain: Buffer[]; upstreamX509Roots: Buffer[] }>;
  /**
   * Publishes a JWT key upstream and answers the JWT keys upstream now
   * publishes. Absent, or rejecting with gRPC Unimplemented, means the
   * plugin cannot, and the key goes into the local bundle only.
   */
  publishJwtKey?(key: JWTKey): Promise<JWTKey[]>;
}
