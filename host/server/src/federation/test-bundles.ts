/**
 * Bundles and SVIDs for the federation tests: a trust domain's CA as a
 * spire.api.types.Bundle, and X509-SVIDs or Web PKI certificates it signs.
 * Not part of the server's face (only *.test.ts files import it).
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import {
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  selfSignedCaTemplate,
  SpiffeId,
  spkiOf,
  TrustDomain,
  x509SvidTemplate,
} from "@signet/spiffe";

export interface TestAuthority {
  readonly trustDomain: TrustDomain;
  readonly der: Buffer;
  readonly key: KeyObject;
  readonly jwtKey: KeyObject;
}

export function testAuthority(trustDomain: string, opts: { now?: Date; ttlSeconds?: number } = {}): TestAuthority {
  const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const td = TrustDomain.parse(trustDomain);
  const der = mintCertificateSync(
    selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(key), ...(opts.now ? { now: opts.now } : {}), ttlSeconds: opts.ttlSeconds ?? 86_400 }),
    keyObjectSigner(key),
  );
  return { trustDomain: td, der, key, jwtKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey };
}

export function bundleOf(ca: TestAuthority, extra: Partial<Bundle> = {}): Bundle {
  return {
    trustDomain: ca.trustDomain.name,
    x509Authorities: [{ asn1: ca.der, tainted: false }],
    jwtAuthorities: [{ publicKey: spkiOf(ca.jwtKey), keyId: "jwt-1", expiresAt: 0n, tainted: false }],
    refreshHint: 0n,
    sequenceNumber: 0n,
    witAuthorities: [],
    ...extra,
  };
}

/** An X509-SVID (optionally with DNS SANs, for a Web PKI server certificate) signed by `ca`. */
export function testSvid(ca: TestAuthority, id: string, dnsNames: readonly string[] = []): { chain: Buffer[]; key: KeyObject } {
  const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const der = mintCertificateSync(
    x509SvidTemplate({ spiffeId: SpiffeId.parse(id), issuer: issuerFromCertificate(ca.der), spki: spkiOf(key), dnsNames }),
    keyObjectSigner(ca.key),
  );
  return { chain: [der], key };
}
