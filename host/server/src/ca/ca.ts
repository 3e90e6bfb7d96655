/**
 * The server CA (SPIRE's ca.CA): holds the active X.509 authority and JWT
 * key that the manager hands it, and issues X509-SVIDs, downstream CAs and
 * JWT-SVIDs with them. Certificates are minted in batches: every TBS is
 * built first, then one KeyManager call signs them all.
 */
import { X509Certificate, randomBytes, randomUUID } from "node:crypto";
import {
  type CertificateTemplate,
  SpiffeId,
  type TrustDomain,
  X509Error,
  assembleCertificate,
  downstreamCaTemplate,
  encodeTbs,
  joseSignature,
  jwtSvidSigningInput,
  jwtSvidToken,
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
} from "./authority.js";
import type { BundleStore } from "./bundle.js";
import type { Clock } from "./clock.js";
import type { CaHash, CaSigner } from "./signer.js";
import type { JwtKeyAuthority, X509CaAuthority } from "./slot.js";

export interface CaOptions {
  readonly trustDomain: TrustDomain;
  readonly signer: CaSigner;
  readonly clock: Clock;
  /** default_x509_svid_ttl */
  readonly x509SvidTtlSeconds: number;
  /** agent_ttl (0 = default_x509_svid_ttl) */
  readonly agentTtlSeconds: number;
  /** default_jwt_svid_ttl */
  readonly jwtSvidTtlSeconds: number;
  /** ca_ttl: the default TTL of downstream CAs. */
  readonly caTtlSeconds: number;
  /** jwt_issuer; "" or undefined = no iss claim. */
  readonly jwtIssuer?: string;
  readonly disableJwtSvids: boolean;
  /** Where downstream CAs get the bundle's X.509 authorities from. */
  readonly bundle: Pick<BundleStore, "fetch">;
}

/** What the CA manager calls on the CA (SPIRE's ManagedCA). */
export interface ManagedCa {
  setX509Ca(authority: X509CaAuthority | undefined): void;
  setJwtKey(key: JwtKeyAuthority | undefined): void;
  notifyTaintedX509Authorities(authorities: readonly Buffer[]): void;
}

type Listener<T> = (value: T) => void;

export class Ca implements ServerCA, ManagedCa {
  private x509Ca: X509CaAuthority | undefined;
  private jwtKey: JwtKeyAuthority | undefined;
  private readonly taintedListeners = new Set<Listener<readonly Buffer[]>>();
  private readonly x509CaListeners = new Set<Listener<X509CaAuthority | undefined>>();

  constructor(private readonly options: CaOptions) {}

  // ---- managed by the CA manager ------------------------------------------------

  setX509Ca(authority: X509CaAuthority | undefined): void {
    this.x509Ca = authority;
    for (const l of this.x509CaListeners) l(authority);
  }

  setJwtKey(key: JwtKeyAuthority | undefined): void {
    this.jwtKey = key;
  }

  notifyTaintedX509Authorities(authorities: readonly Buffer[]): void {
    for (const l of this.taintedListeners) l(authorities);
  }

  /** The active X.509 authority, if any. */
  currentX509Ca(): X509CaAuthority | undefined {
    return this.x509Ca;
  }

  currentJwtKey(): JwtKeyAuthority | undefined {
    return this.jwtKey;
  }

  /** Called with the certificates of authorities an operator tainted. Returns an unsubscribe function. */
  onTaintedAuthorities(listener: Listener<readonly Buffer[]>): () => void {
    this.taintedListeners.add(listener);
    return () => this.taintedListeners.delete(listener);
  }

  /** Called whenever the active X.509 authority changes. */
  onX509CaChanged(listener: Listener<X509CaAuthority | undefined>): () => void {
    this.x509CaListeners.add(listener);
    return () => this.x509CaListeners.delete(listener);
  }

  // ---- issuance (ServerCA) --------------------------------------------------------

  async signWorkloadX509Svids(requests: readonly X509SvidRequest[]): Promise<Array<IssuedX509Svid | CaError>> {
    const ca = this.requireX509Ca();
    const now = this.options.clock.now();
    const serials = serialNumbers(requests.length);
    const templates = requests.map((r, i) => this.svidTemplate(ca, r, r.ttlSeconds || this.options.x509SvidTtlSeconds, now, serials[i]));
    const valid = templates.filter((t): t is CertificateTemplate => !(t instanceof CaError));
    const certs = await this.mint(ca, valid);
    let next = 0;
    return templates.map((t) => (t instanceof CaError ? t : this.issued(ca, certs[next++]!, t)));
  }

  async signAgentX509Svid(request: X509SvidRequest): Promise<IssuedX509Svid> {
    const ttl = request.ttlSeconds || this.options.agentTtlSeconds || this.options.x509SvidTtlSeconds;
    return this.signOne({ ...request, subject: undefined, dnsNames: undefined }, ttl);
  }

  /** The server's own SVID (spiffe://<td>/spire/server), default_x509_svid_ttl. */
  async signServerX509Svid(publicKey: Buffer): Promise<IssuedX509Svid> {
    const spiffeId = serverId(this.options.trustDomain);
    return this.signOne({ publicKey, spiffeId }, this.options.x509SvidTtlSeconds);
  }

  async signDownstreamX509Ca(request: DownstreamCaRequest): Promise<IssuedDownstreamCa> {
    const ca = this.requireX509Ca();
    const parentChain = ca.upstreamChain.length > 0 ? ca.upstreamChain : [ca.certificate];
    const template = wrapTemplateError(() =>
      downstreamCaTemplate({
        trustDomain: this.options.trustDomain,
        issuer: ca.issuer,
        parentChainLength: parentChain.length,
        spki: request.publicKey,
        ttlSeconds: request.ttlSeconds || this.options.caTtlSeconds,
        now: this.options.clock.now(),
      }),
      "invalid downstream X509 CA template",
    );
    const [cert] = await this.mint(ca, [template]);
    const bundle = await this.options.bundle.fetch();
    return {
      caCertChain: [cert!, ...ca.upstreamChain],
      x509Authorities: (bundle?.x509Authorities ?? []).map((a) => a.asn1),
    };
  }

  async signJwtSvid(request: JwtSvidRequest): Promise<IssuedJwtSvid> {
    if (this.options.disableJwtSvids) throw new CaError("jwt-disabled", "JWT functionality is disabled");
    const key = this.jwtKey;
    if (!key) throw new CaError("not-ready", "JWT key is not available for signing");
    checkMember(this.options.trustDomain, request.spiffeId, "JWT-SVID");
    const audience = request.audience.filter((a) => a !== "");
    if (audience.length === 0) throw new CaError("invalid", "invalid JWT-SVID audience: cannot be empty");

    const nowMs = this.options.clock.now().getTime();
    const ttl = request.ttlSeconds && request.ttlSeconds > 0 ? request.ttlSeconds : this.options.jwtSvidTtlSeconds;
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = Math.floor(Math.min(nowMs + ttl * 1000, key.notAfter.getTime()) / 1000);
    const input = jwtSvidSigningInput(
      { alg: key.algorithm, kid: key.kid },
      {
        sub: request.spiffeId.toString(),
        aud: audience,
        exp: expiresAt,
        iat: issuedAt,
        ...(this.options.jwtIssuer ? { iss: this.options.jwtIssuer } : {}),
        ...(request.includeJti ? { jti: Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url") } : {}),
      },
    );
    let signature: Buffer;
    try {
      const hash: CaHash = key.algorithm === "ES384" ? "sha384" : "sha256";
      [signature] = (await this.options.signer.signMessages(key.kmKeyId, [Buffer.from(input)], hash)) as [Buffer];
      signature = joseSignature(key.algorithm, signature);
    } catch (e) {
      throw new CaError("internal", `unable to sign JWT SVID: ${(e as Error).message}`);
    }
    return { token: jwtSvidToken(input, signature), issuedAt, expiresAt };
  }

  // ---- helpers ----------------------------------------------------------------------

  private async signOne(request: X509SvidRequest, ttlSeconds: number): Promise<IssuedX509Svid> {
    const ca = this.requireX509Ca();
    const template = this.svidTemplate(ca, request, ttlSeconds, this.options.clock.now());
    if (template instanceof CaError) throw template;
    const [cert] = await this.mint(ca, [template]);
    return this.issued(ca, cert!, template);
  }

  private svidTemplate(ca: X509CaAuthority, r: X509SvidRequest, ttlSeconds: number, now: Date, serial?: bigint): CertificateTemplate | CaError {
    try {
      checkMember(this.options.trustDomain, r.spiffeId, "X509-SVID");
      return wrapTemplateError(
        () =>
          x509SvidTemplate({
            spiffeId: r.spiffeId,
            issuer: ca.issuer,
            spki: r.publicKey,
            ttlSeconds,
            now,
            ...(r.dnsNames ? { dnsNames: r.dnsNames } : {}),
            ...(r.subject ? { subject: r.subject } : {}),
            ...(serial !== undefined ? { serial } : {}),
          }),
        "invalid X509-SVID template",
      );
    } catch (e) {
      if (e instanceof CaError) return e;
      return new CaError("internal", (e as Error).message);
    }
  }

  private async mint(ca: X509CaAuthority, templates: readonly CertificateTemplate[]): Promise<Buffer[]> {
    if (templates.length === 0) return [];
    let tbss: Buffer[];
    try {
      tbss = templates.map((t) => encodeTbs(t, ca.algorithm));
    } catch (e) {
      throw new CaError("invalid", (e as Error).message);
    }
    let signatures: Buffer[];
    try {
      signatures = await this.options.signer.signMessages(ca.kmKeyId, tbss, ca.algorithm === "ECDSA-SHA384" ? "sha384" : "sha256");
    } catch (e) {
      throw new CaError("internal", `failed to sign X509 SVID: ${(e as Error).message}`);
    }
    return tbss.map((tbs, i) => assembleCertificate(tbs, ca.algorithm, signatures[i]!));
  }

  private issued(ca: X509CaAuthority, cert: Buffer, template: CertificateTemplate): IssuedX509Svid {
    return {
      certChain: [cert, ...ca.upstreamChain],
      expiresAt: Math.floor(template.notAfter.getTime() / 1000),
      serial: template.serial.toString(10),
    };
  }

  private requireX509Ca(): X509CaAuthority {
    if (!this.x509Ca) throw new CaError("not-ready", "X509 CA is not available for signing");
    return this.x509Ca;
  }
}

/** spiffe://<td>/spire/server */
export function serverId(td: TrustDomain): SpiffeId {
  return SpiffeId.fromPath(td, "/spire/server");
}

function checkMember(td: TrustDomain, id: SpiffeId, what: string): void {
  if (!id.memberOf(td)) throw new CaError("invalid", `invalid ${what} ID: "${id}" is not a member of trust domain "${td.name}"`);
  if (id.isTrustDomainId) throw new CaError("invalid", `invalid ${what} ID: "${id}" is not a member of trust domain "${td.name}"; path is empty`);
}

function wrapTemplateError<T>(build: () => T, what: string): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof X509Error) throw new CaError("invalid", e.message);
    throw new CaError("internal", `${what}: ${(e as Error).message}`);
  }
}

/** Sanity check used by tests and the manager: does `cert` verify under `issuerCert`'s key? */
export function issuedBy(cert: Buffer, issuerCert: Buffer): boolean {
  try {
    const c = new X509Certificate(cert);
    const i = new X509Certificate(issuerCert);
    return c.checkIssued(i) && c.verify(i.publicKey);
  } catch {
    return false;
  }
}

/**
 * `count` random 128-bit serial numbers, never 0 (as newSerialNumber draws
 * them), from one read of the CSPRNG: one read per certificate costs more
 * than the rest of its template.
 */
export function serialNumbers(count: number): bigint[] {
  const bytes = randomBytes(16 * count);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    let serial = BigInt(`0x${bytes.toString("hex", 16 * i, 16 * i + 16)}`);
    while (serial === 0n) serial = BigInt(`0x${randomBytes(16).toString("hex")}`);
    out.push(serial);
  }
  return out;
}
