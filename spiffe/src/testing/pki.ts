/**
 * Test PKI: a trust domain's self-signed CA minting X509-SVIDs and JWT-SVIDs with SPIRE's
 * profiles (our own x509/jwt code), for the Workload API and TLS tests. Not part of the build.
 */
import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from "node:crypto";
import { SpiffeId, TrustDomain } from "../id/index.js";
import { joseSignature, jwtAlgorithmFor, jwtSvidSigningInput, jwtSvidToken } from "../jwt/index.js";
import {
  downstreamCaTemplate,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  selfSignedCaTemplate,
  spkiOf,
  x509SvidTemplate,
} from "../x509/index.js";

export interface MintedSvid {
  /** Leaf (then intermediates), concatenated DER as the Workload API sends it. */
  readonly certDer: Buffer;
  /** PKCS#8 DER. */
  readonly keyDer: Buffer;
  readonly leaf: X509Certificate;
}

export class TestCa {
  readonly cert: X509Certificate;
  private readonly jwtKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
  readonly jwtKeyId = "jwt-key-1";

  private constructor(
    readonly trustDomain: TrustDomain,
    private readonly key: KeyObject,
    readonly der: Buffer,
    /** Certificates between this CA and the root (for intermediates), DER. */
    private readonly chainAbove: readonly Buffer[],
    private readonly root?: TestCa,
  ) {
    this.cert = new X509Certificate(der);
  }

  static create(trustDomain: string, now = new Date()): TestCa {
    const td = TrustDomain.parse(trustDomain);
    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const der = mintCertificateSync(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(keys.publicKey), now }), keyObjectSigner(keys.privateKey));
    return new TestCa(td, keys.privateKey, der, []);
  }

  /** An intermediate CA under this one; its SVIDs carry it in their chain. */
  intermediate(now = new Date()): TestCa {
    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const template = downstreamCaTemplate({
      trustDomain: this.trustDomain,
      issuer: issuerFromCertificate(this.der),
      parentChainLength: 1,
      spki: spkiOf(keys.publicKey),
      now,
    });
    const der = mintCertificateSync(template, keyObjectSigner(this.key));
    return new TestCa(this.trustDomain, keys.privateKey, der, [der, ...this.chainAbove], this.root ?? this);
  }

  /** The root(s) as the Workload API's `bundle` bytes. */
  get bundleDer(): Buffer {
    return (this.root ?? this).der;
  }

  x509Svid(id: string, options: { ttlSeconds?: number; now?: Date } = {}): MintedSvid {
    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const template = x509SvidTemplate({
      spiffeId: SpiffeId.parse(id),
      issuer: issuerFromCertificate(this.der),
      spki: spkiOf(keys.publicKey),
      ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const leafDer = mintCertificateSync(template, keyObjectSigner(this.key));
    return {
      certDer: Buffer.concat([leafDer, ...this.chainAbove]),
      keyDer: keys.privateKey.export({ type: "pkcs8", format: "der" }),
      leaf: new X509Certificate(leafDer),
    };
  }

  /** A JWT-SVID signed with this trust domain's JWT key (ES256, SPIRE's header and claim order). */
  jwtSvid(sub: string, audience: readonly string[], options: { ttlSeconds?: number; now?: Date } = {}): string {
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const alg = jwtAlgorithmFor(this.jwtKey.privateKey);
    const input = jwtSvidSigningInput({ alg, kid: this.jwtKeyId }, { sub, aud: audience, exp: now + (options.ttlSeconds ?? 300), iat: now });
    const der = sign("sha256", Buffer.from(input), { key: this.jwtKey.privateKey, dsaEncoding: "der" });
    return jwtSvidToken(input, joseSignature(alg, der));
  }

  /** The JWT bundle as the Workload API sends it: a plain JWK Set. */
  get jwtBundleJson(): Buffer {
    const jwk = this.jwtKey.publicKey.export({ format: "jwk" });
    return Buffer.from(JSON.stringify({ keys: [{ kty: jwk.kty, kid: this.jwtKeyId, crv: jwk.crv, x: jwk.x, y: jwk.y }] }));
  }
}
