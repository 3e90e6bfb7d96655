/**
 * A small SPIFFE PKI for tests: a trust domain root, optional intermediates,
 * and X509-SVIDs minted with @signet/spiffe's SPIRE templates and node:crypto
 * P-256 keys.
 */
import { generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import {
  SpiffeId,
  TrustDomain,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  selfSignedCaTemplate,
  spkiOf,
  x509SvidTemplate,
  downstreamCaTemplate,
  type CertificateTemplate,
} from "../../spiffe/src/index.js";

export interface TestCa {
  readonly trustDomain: TrustDomain;
  readonly der: Buffer;
  readonly key: KeyObject;
  /** The CA chain above the SVIDs it signs, excluding the root (empty for the root itself). */
  readonly intermediates: readonly Buffer[];
}

export interface TestSvid {
  readonly id: SpiffeId;
  /** Leaf first, then intermediates. */
  readonly chain: readonly Buffer[];
  readonly key: KeyObject;
  readonly serial: bigint;
  readonly notAfter: Date;
}

function newKey(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

export function createRootCa(trustDomain: string, opts: { now?: Date; ttlSeconds?: number } = {}): TestCa {
  const td = TrustDomain.parse(trustDomain);
  const key = newKey();
  const der = mintCertificateSync(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(key), now: opts.now, ttlSeconds: opts.ttlSeconds ?? 86_400 }), keyObjectSigner(key));
  return { trustDomain: td, der, key, intermediates: [] };
}

/** An intermediate CA under `parent` (a downstream-style CA of the same trust domain). */
export function createIntermediateCa(parent: TestCa): TestCa {
  const key = newKey();
  const der = mintCertificateSync(
    downstreamCaTemplate({ trustDomain: parent.trustDomain, issuer: issuerFromCertificate(parent.der), spki: spkiOf(key), parentChainLength: 1 + parent.intermediates.length }),
    keyObjectSigner(parent.key),
  );
  return { trustDomain: parent.trustDomain, der, key, intermediates: [der, ...parent.intermediates] };
}

export function mintSvid(ca: TestCa, id: string, opts: { now?: Date; ttlSeconds?: number; serial?: bigint; tweak?: (t: CertificateTemplate) => CertificateTemplate } = {}): TestSvid {
  const key = newKey();
  const spiffeId = SpiffeId.parse(id);
  let template = x509SvidTemplate({ spiffeId, issuer: issuerFromCertificate(ca.der), spki: spkiOf(key), now: opts.now, ttlSeconds: opts.ttlSeconds ?? 3600, serial: opts.serial });
  if (opts.tweak) template = opts.tweak(template);
  const der = mintCertificateSync(template, keyObjectSigner(ca.key));
  return { id: spiffeId, chain: [der, ...ca.intermediates], key, serial: template.serial, notAfter: template.notAfter };
}

export function pem(ders: readonly Buffer[]): string {
  return ders.map((d) => new X509Certificate(d).toString()).join("");
}

export function keyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }) as string;
}
