import type { DistinguishedName } from "@signet/spiffe";
import type { SpiffeId } from "@signet/spiffe";

/**
 * What the server APIs need from the CA (SPIRE's ca.ServerCA). Implemented in
 * `ca/` over the active X.509 authority and JWT key; the APIs validate their
 * input first and never see key material.
 *
 * TTLs: 0 or undefined means the configured default (default_x509_svid_ttl,
 * agent_ttl, default_jwt_svid_ttl); results are capped at the issuing
 * authority's expiry as SPIRE does.
 */
export interface ServerCA {
  /** Workload X509-SVIDs, many at once (BatchNewX509SVID, MintX509SVID). One result per request, in order. */
  signWorkloadX509Svids(requests: readonly X509SvidRequest[]): Promise<Array<IssuedX509Svid | CaError>>;
  /** An agent X509-SVID (AttestAgent, RenewAgent); ttl = agent_ttl. */
  signAgentX509Svid(request: X509SvidRequest): Promise<IssuedX509Svid>;
  /** An intermediate CA for a downstream server (NewDownstreamX509CA). */
  signDownstreamX509Ca(request: DownstreamCaRequest): Promise<IssuedDownstreamCa>;
  /** A JWT-SVID signed by the active JWT key (NewJWTSVID, MintJWTSVID). */
  signJwtSvid(request: JwtSvidRequest): Promise<IssuedJwtSvid>;
}

export interface X509SvidRequest {
  /** SubjectPublicKeyInfo DER of the key to certify (from the CSR). */
  readonly publicKey: Buffer;
  readonly spiffeId: SpiffeId;
  readonly dnsNames?: readonly string[];
  readonly ttlSeconds?: number;
  /** Only MintX509SVID copies the CSR subject; otherwise C=US, O=SPIRE. */
  readonly subject?: DistinguishedName;
}

export interface IssuedX509Svid {
  /** Leaf first, then the CA and upstream intermediates (not the bundle root). */
  readonly certChain: readonly Buffer[];
  /** Leaf NotAfter, Unix seconds. */
  readonly expiresAt: number;
  /** Leaf serial as a decimal string. */
  readonly serial: string;
}

export interface DownstreamCaRequest {
  readonly publicKey: Buffer;
  readonly ttlSeconds?: number;
}

export interface IssuedDownstreamCa {
  readonly caCertChain: readonly Buffer[];
  readonly x509Authorities: readonly Buffer[];
}

export interface JwtSvidRequest {
  readonly spiffeId: SpiffeId;
  /** At least one, validated by the caller. */
  readonly audience: readonly string[];
  readonly ttlSeconds?: number;
  readonly includeJti?: boolean;
}

export interface IssuedJwtSvid {
  readonly token: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Why the CA could not sign. APIs map kinds to gRPC codes:
 * "not-ready" → Unavailable ("server is initializing" style),
 * "jwt-disabled" → Unimplemented, "invalid" → InvalidArgument, "internal" → Internal.
 */
export class CaError extends Error {
  constructor(
    readonly kind: "not-ready" | "jwt-disabled" | "invalid" | "internal",
    message: string,
  ) {
    super(message);
    this.name = "CaError";
  }
}
