/**
 * A trust domain's X.509 and JWT authority for agent tests: a self-signed
 * CA minting SPIRE-profile X509-SVIDs (from an SPKI or a CSR) and ES256
 * JWT-SVIDs at a time the test chooses (a ManualClock's now), and the
 * spire.api.types.Bundle the server would hand out, optionally tainted.
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import {
  issuerFromCertificate,
  joseSignature,
  jwtAlgorithmFor,
  jwtSvidSigningInput,
  jwtSvidToken,
  keyObjectSigner,
  mintCertificateSync,
  parseCsr,
  selfSignedCaTemplate,
  SpiffeId,
  spkiOf,
  TrustDomain,
  x509SvidTemplate,
} from "@signet/spiffe";

export class TestAuthority {
  readonly trustDomain: TrustDomain;
  /** The CA certificate, DER. */
  readonly der: Buffer;
  readonly jwtKeyId = "jwt-authority-1";
  private readonly key: KeyObject;
  private readonly issuer: ReturnType<typeof issuerFromCertificate>;
  private readonly jwtKey = generateKeyPairSync("ec", { namedCurve: "P-256" });

  /** A CA valid from `now` for `ttlSeconds` (long enough to cap no test SVID by default). */
  constructor(trustDomain: string, now: Date, ttlSeconds = 365 * 86_400) {
    this.trustDomain = TrustDomain.parse(trustDomain);
    this.key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    this.der = mintCertificateSync(selfSignedCaTemplate({ trustDomain: this.trustDomain, spki: spkiOf(this.key), ttlSeconds, now }), keyObjectSigner(this.key));
    this.issuer = issuerFromCertificate(this.der);
  }

  /** An X509-SVID leaf for `spiffeId` over `spki`, valid from `now` (less SPIRE's 10 s cushion) for `ttlSeconds`. */
  mint(spiffeId: string, spki: Buffer, now: Date, ttlSeconds: number): Buffer {
    const template = x509SvidTemplate({ spiffeId: SpiffeId.parse(spiffeId), issuer: this.issuer, spki, now, ttlSeconds });
    return mintCertificateSync(template, keyObjectSigner(this.key));
  }

  /** Signs a CSR as the server's SVID API does: the CSR's key, the given SPIFFE ID. */
  signCsr(csr: Buffer, spiffeId: string, now: Date, ttlSeconds: number): Buffer {
    return this.mint(spiffeId, parseCsr(csr).spki, now, ttlSeconds);
  }

  /** A fresh key and an SVID for it. */
  svid(spiffeId: string, now: Date, ttlSeconds: number): { chain: Buffer[]; privateKey: KeyObject } {
    const privateKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    return { chain: [this.mint(spiffeId, spkiOf(privateKey), now, ttlSeconds)], privateKey };
  }

  /** An ES256 JWT-SVID; iat/exp in seconds. */
  jwt(spiffeId: string, audience: readonly string[], iat: number, exp: number): string {
    const alg = jwtAlgorithmFor(this.jwtKey.privateKey);
    const input = jwtSvidSigningInput({ alg, kid: this.jwtKeyId }, { sub: spiffeId, aud: [...audience], exp, iat });
    const der = sign("sha256", Buffer.from(input), { key: this.jwtKey.privateKey, dsaEncoding: "der" });
    return jwtSvidToken(input, joseSignature(alg, der));
  }

  /** The bundle as Bundle/GetBundle returns it. */
  bundle(options: { tainted?: boolean; sequenceNumber?: bigint } = {}): Bundle {
    return {
      trustDomain: this.trustDomain.name,
      x509Authorities: [{ asn1: this.der, tainted: options.tainted ?? false }],
      jwtAuthorities: [
        { publicKey: this.jwtKey.publicKey.export({ type: "spki", format: "der" }), keyId: this.jwtKeyId, expiresAt: 0n, tainted: false },
      ],
      refreshHint: 0n,
      sequenceNumber: options.sequenceNumber ?? 1n,
      witAuthorities: [],
    };
  }
}
