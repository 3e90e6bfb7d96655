/**
 * A small real ServerCA for API tests that do not need the CA stack: one
 * in-memory EC P-256 root that signs every SVID with @signet/spiffe's SPIRE
 * templates on this thread. No KeyManager, no rotation. (server-ca.ts runs
 * the server's real CA over a KeyManager.)
 */
import { type KeyObject, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import {
  type Issuer,
  TrustDomain,
  downstreamCaTemplate,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  readCertificate,
  selfSignedCaTemplate,
  spkiOf,
  x509SvidTemplate,
} from "@signet/spiffe";
import {
  CaError,
  type DownstreamCaRequest,
  type IssuedDownstreamCa,
  type IssuedJwtSvid,
  type IssuedX509Svid,
  type JwtSvidRequest,
  type ServerCA,
  type X509SvidRequest,
} from "../../host/server/src/ca/authority.js";

export interface InMemoryServerCaOptions {
  readonly trustDomain: string;
  readonly now?: () => Date;
  readonly x509SvidTtlSeconds?: number;
  readonly agentTtlSeconds?: number;
  readonly jwtSvidTtlSeconds?: number;
  readonly jwtSvidsDisabled?: boolean;
}

export class InMemoryServerCa implements ServerCA {
  readonly trustDomain: TrustDomain;
  /** The root (bundle) certificate, DER. */
  readonly rootCert: Buffer;
  readonly jwtKeyId = randomBytes(16).toString("hex");
  /** Batch sizes of signWorkloadX509Svids calls, in order (to observe one-call batching). */
  readonly workloadBatches: number[] = [];
  /** Set to make every signing call fail. */
  failWith: CaError | undefined;

  private readonly key: KeyObject;
  private readonly issuer: Issuer;
  private readonly now: () => Date;

  constructor(private readonly options: InMemoryServerCaOptions) {
    this.trustDomain = TrustDomain.parse(options.trustDomain);
    this.now = options.now ?? (() => new Date());
    this.key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    this.rootCert = mintCertificateSync(
      selfSignedCaTemplate({ trustDomain: this.trustDomain, spki: spkiOf(this.key), ttlSeconds: 24 * 3600, now: this.now() }),
      keyObjectSigner(this.key),
    );
    this.issuer = issuerFromCertificate(this.rootCert);
  }

  async signWorkloadX509Svids(requests: readonly X509SvidRequest[]): Promise<Array<IssuedX509Svid | CaError>> {
    this.workloadBatches.push(requests.length);
    if (this.failWith) throw this.failWith;
    return requests.map((r) => {
      try {
        return this.sign(r, r.ttlSeconds ?? this.options.x509SvidTtlSeconds ?? 3600);
      } catch (e) {
        return new CaError("invalid", e instanceof Error ? e.message : String(e));
      }
    });
  }

  async signAgentX509Svid(request: X509SvidRequest): Promise<IssuedX509Svid> {
    if (this.failWith) throw this.failWith;
    return this.sign(request, this.options.agentTtlSeconds ?? this.options.x509SvidTtlSeconds ?? 3600);
  }

  async signDownstreamX509Ca(request: DownstreamCaRequest): Promise<IssuedDownstreamCa> {
    if (this.failWith) throw this.failWith;
    const cert = mintCertificateSync(
      downstreamCaTemplate({
        trustDomain: this.trustDomain,
        issuer: this.issuer,
        parentChainLength: 1,
        spki: request.publicKey,
        ttlSeconds: request.ttlSeconds ?? this.options.x509SvidTtlSeconds ?? 3600,
        now: this.now(),
      }),
      keyObjectSigner(this.key),
    );
    return { caCertChain: [cert], x509Authorities: [this.rootCert] };
  }

  async signJwtSvid(request: JwtSvidRequest): Promise<IssuedJwtSvid> {
    if (this.options.jwtSvidsDisabled) throw new CaError("jwt-disabled", "JWT-SVIDs are disabled");
    if (this.failWith) throw this.failWith;
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + (request.ttlSeconds ?? this.options.jwtSvidTtlSeconds ?? 300);
    const header = { alg: "ES256", kid: this.jwtKeyId, typ: "JWT" };
    const claims: Record<string, unknown> = { sub: request.spiffeId.toString(), aud: [...request.audience], exp, iat };
    if (request.includeJti) claims.jti = randomBytes(16).toString("hex");
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), { key: this.key, dsaEncoding: "ieee-p1363" });
    return { token: `${input}.${signature.toString("base64url")}`, issuedAt: iat, expiresAt: exp };
  }

  private sign(request: X509SvidRequest, ttlSeconds: number): IssuedX509Svid {
    const leaf = mintCertificateSync(
      x509SvidTemplate({
        spiffeId: request.spiffeId,
        issuer: this.issuer,
        spki: request.publicKey,
        ttlSeconds,
        now: this.now(),
        ...(request.dnsNames ? { dnsNames: request.dnsNames } : {}),
        ...(request.subject ? { subject: request.subject } : {}),
      }),
      keyObjectSigner(this.key),
    );
    const fields = readCertificate(leaf);
    return { certChain: [leaf], expiresAt: Math.floor(fields.notAfter.getTime() / 1000), serial: fields.serial.toString() };
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64url");
}
