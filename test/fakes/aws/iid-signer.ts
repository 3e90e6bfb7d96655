/**
 * Stands for AWS's signing of EC2 instance identity documents (what IMDS serves at
 * dynamic/instance-identity/{document,signature,rsa2048}): a test "AWS" with its own self-signed
 * RSA-2048 and RSA-1024 certificates, which signs documents both ways AWS does:
 *
 *   rsa2048   PKCS #7 SignedData in BER as `openssl smime` writes it (indefinite lengths, the
 *             content as a constructed OCTET STRING), SHA-256 with RSA over authenticated
 *             attributes (contentType, signingTime, messageDigest), the signer named by issuer
 *             and serial number, no certificates; base64 without PEM armor, 64-column lines;
 *   signature RSA-1024 PKCS #1 v1.5 over SHA-256 of the document, base64 in 64-column lines.
 *
 * Plus the DER encoding helpers the fakes (and tests that forge messages) need.
 */
import { type KeyObject, createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

// ------------------------------------------------------------------------------------------ DER

export function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A constructed element with BER indefinite length. */
export function indefinite(tag: number, ...children: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...children, Buffer.from([0, 0])]);
}

export const seq = (...c: Buffer[]) => tlv(0x30, Buffer.concat(c));
export const set = (...c: Buffer[]) => tlv(0x31, Buffer.concat(c));
export const octetString = (b: Buffer) => tlv(0x04, b);
export const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, Buffer.concat(c));
export const nullValue = Buffer.from([0x05, 0x00]);

export function integer(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, "hex");
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(text: string): Buffer {
  const [a, b, ...rest] = text.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  return tlv(0x17, Buffer.from(s));
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(cn)))));
const sha256WithRsa = seq(oid("1.2.840.113549.1.1.11"), nullValue);
const sha256 = seq(oid("2.16.840.1.101.3.4.2.1"), nullValue);
const rsaEncryption = seq(oid("1.2.840.113549.1.1.1"), nullValue);

// ---------------------------------------------------------------------------------- certificates

export interface TestCertificate {
  readonly der: Buffer;
  readonly key: KeyObject;
  readonly issuer: Buffer;
  readonly serial: bigint;
  readonly pem: string;
}

/** A self-signed RSA certificate, as AWS's per-region ones are. */
export function selfSignedRsa(bits: 1024 | 2048, commonName: string): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const serial = BigInt(`0x${randomBytes(8).toString("hex")}`) | 1n;
  const issuer = name(commonName);
  const now = Date.now();
  const tbs = seq(
    explicit(0, integer(2n)),
    integer(serial),
    sha256WithRsa,
    issuer,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 10 * 365 * 86400_000))),
    issuer,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const der = seq(tbs, sha256WithRsa, tlv(0x03, Buffer.concat([Buffer.from([0]), sign("sha256", tbs, privateKey)])));
  return { der, key: privateKey, issuer, serial, pem: pem("CERTIFICATE", der) };
}

export function pem(type: string, der: Buffer): string {
  return `-----BEGIN ${type}-----\n${lines(der.toString("base64"))}\n-----END ${type}-----\n`;
}

const lines = (b64: string) => b64.match(/.{1,64}/g)!.join("\n");

// ------------------------------------------------------------------------------------- signing

export interface Pkcs7Options {
  /** Signed content; default the document itself. */
  readonly content?: Buffer;
  /** Leave out the authenticated attributes (sign the content directly). */
  readonly noAttributes?: boolean;
  /** The messageDigest attribute's value; default SHA-256 of the content. */
  readonly messageDigest?: Buffer;
}

/** An AWS-like signer: one RSA-2048 and one RSA-1024 certificate. */
export class IidSigner {
  readonly rsa2048: TestCertificate;
  readonly rsa1024: TestCertificate;

  constructor(label = "Test AWS") {
    this.rsa2048 = selfSignedRsa(2048, `${label} RSA-2048`);
    this.rsa1024 = selfSignedRsa(1024, `${label} RSA-1024`);
  }

  /** base64 of RSA-1024 PKCS #1 v1.5 SHA-256 over the document, as IMDS serves `signature`. */
  signatureRsa1024(document: string): string {
    return lines(sign("sha256", Buffer.from(document), this.rsa1024.key).toString("base64"));
  }

  /** base64 (no armor) of the PKCS #7 SignedData, as IMDS serves `rsa2048`. */
  signatureRsa2048(document: string, options: Pkcs7Options = {}): string {
    return lines(this.pkcs7(document, options).toString("base64"));
  }

  pkcs7(document: string, options: Pkcs7Options = {}): Buffer {
    const content = options.content ?? Buffer.from(document);
    const digest = options.messageDigest ?? createHash("sha256").update(content).digest();
    const attributes = [
      seq(oid("1.2.840.113549.1.9.3"), set(oid("1.2.840.113549.1.7.1"))),
      seq(oid("1.2.840.113549.1.9.5"), set(utcTime(new Date()))),
      seq(oid("1.2.840.113549.1.9.4"), set(octetString(digest))),
    ];
    const signedAttributes = set(...attributes);
    const signature = sign("sha256", options.noAttributes ? content : signedAttributes, this.rsa2048.key);
    const signerInfo = seq(
      integer(1n),
      seq(this.rsa2048.issuer, integer(this.rsa2048.serial)),
      sha256,
      ...(options.noAttributes ? [] : [tlv(0xa0, Buffer.concat(attributes))]),
      rsaEncryption,
      octetString(signature),
    );
    return indefinite(
      0x30,
      oid("1.2.840.113549.1.7.2"),
      indefinite(
        0xa0,
        indefinite(
          0x30,
          integer(1n),
          set(sha256),
          indefinite(0x30, oid("1.2.840.113549.1.7.1"), indefinite(0xa0, indefinite(0x24, octetString(content)))),
          set(signerInfo),
        ),
      ),
    );
  }

  /** Writes both certificates as PEM files; returns the plugin's Signet-only config keys for `regions`. */
  writeCertificates(dir: string, regions: readonly string[]): { signet_rsa2048_certificates: Record<string, string>; signet_rsa1024_certificates: Record<string, string> } {
    const p2048 = join(dir, `${this.rsa2048.serial.toString(16)}-rsa2048.pem`);
    const p1024 = join(dir, `${this.rsa1024.serial.toString(16)}-rsa1024.pem`);
    writeFileSync(p2048, this.rsa2048.pem);
    writeFileSync(p1024, this.rsa1024.pem);
    return {
      signet_rsa2048_certificates: Object.fromEntries(regions.map((r) => [r, p2048])),
      signet_rsa1024_certificates: Object.fromEntries(regions.map((r) => [r, p1024])),
    };
  }
}

// ------------------------------------------------------------------------------------ documents

export interface InstanceIdentity {
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly instanceId: string;
  readonly imageId: string;
  readonly privateIp?: string;
  readonly instanceType?: string;
}

/** The document text as IMDS serves it (pretty-printed JSON, AWS's field order). */
export function identityDocument(i: InstanceIdentity): string {
  return `{
  "accountId" : "${i.accountId}",
  "architecture" : "x86_64",
  "availabilityZone" : "${i.availabilityZone}",
  "billingProducts" : null,
  "devpayProductCodes" : null,
  "marketplaceProductCodes" : null,
  "imageId" : "${i.imageId}",
  "instanceId" : "${i.instanceId}",
  "instanceType" : "${i.instanceType ?? "t3.micro"}",
  "kernelId" : null,
  "pendingTime" : "2024-05-01T10:00:00Z",
  "privateIp" : "${i.privateIp ?? "172.31.0.10"}",
  "ramdiskId" : null,
  "region" : "${i.region}",
  "version" : "2017-09-30"
}`;
}
