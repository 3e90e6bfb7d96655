/**
 * An UpstreamAuthority (host/server/src/ca/upstream.ts) that signs the
 * server CA's CSR with an in-memory root, as SPIRE's disk UpstreamAuthority
 * does (x509svid.UpstreamCA.SignCSR profile).
 */
import { type KeyObject, generateKeyPairSync } from "node:crypto";
import { Code, RpcError } from "@signet/proto";
import type { JWTKey } from "@signet/proto/spire/api/types/bundle";
import {
  type TrustDomain,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  parseCsr,
  selfSignedCaTemplate,
  spkiOf,
  upstreamSignedCaTemplate,
} from "@signet/spiffe";
import type { UpstreamAuthority } from "../../host/server/src/ca/upstream.js";

export class TestUpstreamAuthority implements UpstreamAuthority {
  readonly name = "test-upstream";
  root!: Buffer;
  private rootKey!: KeyObject;
  readonly published: JWTKey[] = [];
  minted = 0;

  constructor(
    private readonly trustDomain: TrustDomain,
    private readonly options: { readonly publishJwt?: boolean; readonly now?: () => Date } = {},
  ) {
    this.rotateRoot();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Replaces the signing root (the old one stays valid; callers decide what to publish). */
  rotateRoot(): Buffer {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.rootKey = privateKey;
    this.root = mintCertificateSync(
      selfSignedCaTemplate({ trustDomain: this.trustDomain, spki: spkiOf(privateKey), ttlSeconds: 30 * 86400, subject: { country: ["US"], organization: ["UPSTREAM"] }, now: this.now() }),
      keyObjectSigner(privateKey),
    );
    return this.root;
  }

  async mintX509Ca(csr: Buffer, preferredTtlSeconds: number): Promise<{ x509CaChain: Buffer[]; upstreamX509Roots: Buffer[] }> {
    this.minted++;
    const request = parseCsr(csr);
    const template = upstreamSignedCaTemplate({ trustDomain: this.trustDomain, csr: request, issuer: issuerFromCertificate(this.root), ttlSeconds: preferredTtlSeconds, now: this.now() });
    return { x509CaChain: [mintCertificateSync(template, keyObjectSigner(this.rootKey))], upstreamX509Roots: [this.root] };
  }

  async publishJwtKey(key: JWTKey): Promise<JWTKey[]> {
    if (!this.options.publishJwt) throw new RpcError(Code.UNIMPLEMENTED, "publishing JWT keys is not supported");
    this.published.push(key);
    return [...this.published];
  }
}
