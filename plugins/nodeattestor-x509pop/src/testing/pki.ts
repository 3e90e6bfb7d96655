/**
 * Test PKI for x509pop: a root CA, an intermediate and agent leaves, minted with @signet/spiffe's
 * SPIRE-profile templates (the leaf's key usage and SANs replaced where a test needs it), plus
 * PEM files on disk as operators provision them. Test support only; not part of the plugin.
 */
import { type KeyObject, generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CertificateTemplate,
  SpiffeId,
  TrustDomain,
  downstreamCaTemplate,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  selfSignedCaTemplate,
  spkiOf,
  x509SvidTemplate,
} from "@signet/spiffe";

export type KeyKind = "ec-p256" | "ec-p384" | "rsa-2048";

export interface Minted {
  readonly der: Buffer;
  readonly key: KeyObject;
}

export function newKey(kind: KeyKind = "ec-p256"): KeyObject {
  if (kind === "rsa-2048") return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  return generateKeyPairSync("ec", { namedCurve: kind === "ec-p384" ? "P-384" : "P-256" }).privateKey;
}

const td = TrustDomain.parse("example.org");

export function rootCa(options: { key?: KeyObject; commonName?: string; now?: Date; ttlSeconds?: number } = {}): Minted {
  const key = options.key ?? newKey();
  const template = selfSignedCaTemplate({
    trustDomain: td,
    spki: spkiOf(key),
    subject: { country: ["US"], organization: ["Test"], commonName: options.commonName ?? "Test Root CA" },
    ...(options.now ? { now: options.now } : {}),
    ttlSeconds: options.ttlSeconds ?? 24 * 3600,
  });
  return { der: mintCertificateSync(template, keyObjectSigner(key)), key };
}

export function intermediateCa(parent: Minted, options: { key?: KeyObject; now?: Date; ttlSeconds?: number } = {}): Minted {
  const key = options.key ?? newKey();
  const template = downstreamCaTemplate({
    trustDomain: td,
    spki: spkiOf(key),
    issuer: issuerFromCertificate(parent.der),
    parentChainLength: 1,
    ...(options.now ? { now: options.now } : {}),
    ttlSeconds: options.ttlSeconds ?? 12 * 3600,
  });
  return { der: mintCertificateSync(template, keyObjectSigner(parent.key)), key };
}

export interface LeafOptions {
  readonly key?: KeyObject;
  readonly commonName?: string;
  /** URI SANs (default: spiffe://example.org/spire-exchange/node-1). */
  readonly uris?: readonly string[];
  readonly ips?: readonly Buffer[];
  /** Key usage bits as the DER bit string's first byte (default 0xa8: digitalSignature, keyEncipherment, keyAgreement). */
  readonly keyUsageByte?: number;
  readonly now?: Date;
  readonly ttlSeconds?: number;
  readonly serial?: bigint;
}

export function leafCert(issuer: Minted, options: LeafOptions = {}): Minted {
  const key = options.key ?? newKey();
  const base = x509SvidTemplate({
    spiffeId: SpiffeId.parse("spiffe://example.org/spire-exchange/node-1"),
    issuer: issuerFromCertificate(issuer.der),
    spki: spkiOf(key),
    subject: { country: ["US"], organization: ["Test"], commonName: options.commonName ?? "node-1.example.org" },
    ...(options.now ? { now: options.now } : {}),
    ...(options.serial !== undefined ? { serial: options.serial } : {}),
    ttlSeconds: options.ttlSeconds ?? 3600,
  });
  const extensions = base.extensions.map((ext) => {
    if (hasOid(ext, keyUsageOid)) return keyUsageExtension(options.keyUsageByte ?? 0xa8);
    if (hasOid(ext, sanOid)) return sanExtension(options.uris ?? ["spiffe://example.org/spire-exchange/node-1"], options.ips ?? []);
    return ext;
  });
  const template: CertificateTemplate = { ...base, extensions };
  return { der: mintCertificateSync(template, keyObjectSigner(issuer.key)), key };
}

// A few DER pieces for the extensions the templates do not let a test vary.
const keyUsageOid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]);
const sanOid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);

function hasOid(ext: Buffer, oid: Buffer): boolean {
  return ext.indexOf(oid) >= 0 && ext.indexOf(oid) < 8;
}

function tlv(tag: number, contents: Buffer): Buffer {
  const n = contents.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, contents]);
}

function keyUsageExtension(firstByte: number): Buffer {
  const bits = tlv(0x03, Buffer.from([unusedBits(firstByte), firstByte]));
  return tlv(0x30, Buffer.concat([keyUsageOid, tlv(0x01, Buffer.from([0xff])), tlv(0x04, bits)]));
}

function unusedBits(b: number): number {
  if (b === 0) return 0;
  let n = 0;
  while (!(b & (1 << n))) n++;
  return n;
}

function sanExtension(uris: readonly string[], ips: readonly Buffer[]): Buffer {
  const names = Buffer.concat([...uris.map((u) => tlv(0x86, Buffer.from(u, "latin1"))), ...ips.map((ip) => tlv(0x87, ip))]);
  return tlv(0x30, Buffer.concat([sanOid, tlv(0x04, tlv(0x30, names))]));
}

// -----------------------------------------------------------------------------------------------
// Files
// -----------------------------------------------------------------------------------------------

export function pem(type: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${type}-----\n${b64}-----END ${type}-----\n`;
}

export function keyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

/** Writes the CA bundle and an agent's certificate chain and key; returns their paths. */
export function writeAgentFiles(
  dir: string,
  name: string,
  parts: { leaf: Minted; chain?: readonly Minted[]; intermediates?: readonly Minted[] },
): { certificatePath: string; privateKeyPath: string; intermediatesPath?: string } {
  const certificatePath = join(dir, `${name}.crt.pem`);
  const privateKeyPath = join(dir, `${name}.key.pem`);
  writeFileSync(certificatePath, [parts.leaf, ...(parts.chain ?? [])].map((m) => pem("CERTIFICATE", m.der)).join(""));
  writeFileSync(privateKeyPath, keyPem(parts.leaf.key), { mode: 0o600 });
  if (!parts.intermediates) return { certificatePath, privateKeyPath };
  const intermediatesPath = join(dir, `${name}.intermediates.pem`);
  writeFileSync(intermediatesPath, parts.intermediates.map((m) => pem("CERTIFICATE", m.der)).join(""));
  return { certificatePath, privateKeyPath, intermediatesPath };
}

export function writeBundle(dir: string, name: string, cas: readonly Minted[]): string {
  const path = join(dir, `${name}.pem`);
  writeFileSync(path, cas.map((m) => pem("CERTIFICATE", m.der)).join(""));
  return path;
}
