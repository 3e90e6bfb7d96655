/**
 * Real CA material on disk, in the PEM files an UpstreamAuthority "disk"
 * plugin reads: a self-signed root, and optionally an intermediate under it
 * (then `certs` holds the intermediate and `bundle` the root). Minted with
 * @signet/spiffe's SPIRE-profile templates.
 */
import { type KeyObject, generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  TrustDomain,
  downstreamCaTemplate,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  selfSignedCaTemplate,
  spkiOf,
} from "@signet/spiffe";

export interface CaFiles {
  readonly certFilePath: string;
  readonly keyFilePath: string;
  readonly bundleFilePath?: string;
  /** DER of the certificates written to cert_file_path, signing CA first. */
  readonly certs: Buffer[];
  /** DER of the roots: bundle_file_path's, or the single self-signed certificate. */
  readonly roots: Buffer[];
  readonly key: KeyObject;
}

export function pem(type: string, der: Buffer): string {
  return `-----BEGIN ${type}-----\n${der.toString("base64").replace(/.{1,64}/g, "$&\n")}-----END ${type}-----\n`;
}

export function newKey(kind: "ec" | "rsa" = "ec"): KeyObject {
  return kind === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey : generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
}

export function selfSignedCa(key: KeyObject, opts: { ttlSeconds?: number; now?: Date; trustDomain?: string } = {}): Buffer {
  const template = selfSignedCaTemplate({
    trustDomain: TrustDomain.parse(opts.trustDomain ?? "upstream.test"),
    spki: spkiOf(key),
    ttlSeconds: opts.ttlSeconds ?? 86_400,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return mintCertificateSync(template, keyObjectSigner(key));
}

/** Writes a CA into `dir`: a root alone, or (intermediate) an intermediate with the root as bundle. */
export function writeCaFiles(
  dir: string,
  opts: { intermediate?: boolean; ttlSeconds?: number; keyFormat?: "pkcs8" | "sec1"; keyKind?: "ec" | "rsa" } = {},
): CaFiles {
  const rootKey = newKey(opts.keyKind);
  const root = selfSignedCa(rootKey, opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {});
  let key = rootKey;
  let certs = [root];
  if (opts.intermediate) {
    key = newKey(opts.keyKind);
    const template = downstreamCaTemplate({
      trustDomain: TrustDomain.parse("upstream.test"),
      issuer: issuerFromCertificate(root),
      parentChainLength: 1,
      spki: spkiOf(key),
      ttlSeconds: opts.ttlSeconds ?? 86_400,
    });
    certs = [mintCertificateSync(template, keyObjectSigner(rootKey))];
  }
  const certFilePath = join(dir, "upstream-ca.pem");
  const keyFilePath = join(dir, "upstream-ca.key");
  writeFileSync(certFilePath, certs.map((c) => pem("CERTIFICATE", c)).join(""));
  const format = opts.keyFormat ?? "pkcs8";
  const keyDer = key.export({ format: "der", type: format }) as Buffer;
  writeFileSync(keyFilePath, pem(format === "pkcs8" ? "PRIVATE KEY" : "EC PRIVATE KEY", keyDer), { mode: 0o600 });
  if (!opts.intermediate) return { certFilePath, keyFilePath, certs, roots: [root], key };
  const bundleFilePath = join(dir, "upstream-bundle.pem");
  writeFileSync(bundleFilePath, pem("CERTIFICATE", root));
  return { certFilePath, keyFilePath, bundleFilePath, certs, roots: [root], key };
}
