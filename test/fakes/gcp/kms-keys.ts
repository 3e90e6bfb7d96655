/**
 * Key material of the fake Google Cloud KMS (kms.ts): the asymmetric signing
 * algorithms of google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm
 * it can hold, real keys made with node:crypto, their PEM public keys as
 * GetPublicKey answers them, and signatures over a caller's digest as
 * AsymmetricSign makes them (ECDSA as ASN.1 DER, RSA PKCS #1 v1.5 as raw
 * bytes), so a client verifies them with the public key like any real one.
 *
 * RSA keys take seconds each to generate (RSA 4096 on a small machine: up to
 * ten), so they are kept between test runs in .tmp/fakes/gcp-kms/ and handed
 * out in order: every key one process gets is distinct, and a run that needs
 * more than the store holds generates (and stores) the rest. EC keys are
 * always fresh.
 */
import { type KeyObject, constants, createPrivateKey, createPublicKey, generateKeyPair, privateEncrypt, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { p256, p384 } from "@noble/curves/nist.js";

type Digest = "sha256" | "sha384" | "sha512";

export interface Algorithm {
  readonly kind: "ec" | "rsa-pkcs1" | "rsa-pss";
  /** Curve (EC) or modulus bits (RSA). */
  readonly size: "P-256" | "P-384" | number;
  /** The digest AsymmetricSign must be given. */
  readonly digest: Digest;
}

export const algorithms: ReadonlyMap<string, Algorithm> = new Map<string, Algorithm>([
  ["EC_SIGN_P256_SHA256", { kind: "ec", size: "P-256", digest: "sha256" }],
  ["EC_SIGN_P384_SHA384", { kind: "ec", size: "P-384", digest: "sha384" }],
  ["RSA_SIGN_PKCS1_2048_SHA256", { kind: "rsa-pkcs1", size: 2048, digest: "sha256" }],
  ["RSA_SIGN_PKCS1_3072_SHA256", { kind: "rsa-pkcs1", size: 3072, digest: "sha256" }],
  ["RSA_SIGN_PKCS1_4096_SHA256", { kind: "rsa-pkcs1", size: 4096, digest: "sha256" }],
  ["RSA_SIGN_PKCS1_4096_SHA512", { kind: "rsa-pkcs1", size: 4096, digest: "sha512" }],
  ["RSA_SIGN_PSS_2048_SHA256", { kind: "rsa-pss", size: 2048, digest: "sha256" }],
  ["RSA_SIGN_PSS_3072_SHA256", { kind: "rsa-pss", size: 3072, digest: "sha256" }],
  ["RSA_SIGN_PSS_4096_SHA256", { kind: "rsa-pss", size: 4096, digest: "sha256" }],
  ["RSA_SIGN_PSS_4096_SHA512", { kind: "rsa-pss", size: 4096, digest: "sha512" }],
]);

const generate = promisify(generateKeyPair);

export async function generateKey(algorithm: Algorithm): Promise<KeyObject> {
  if (algorithm.kind === "ec") return (await generate("ec", { namedCurve: algorithm.size as string })).privateKey;
  return storedRsaKey(algorithm.size as number);
}

const store = join(__dirname, "..", "..", "..", ".tmp", "fakes", "gcp-kms");
/** How many stored keys of each size this process has handed out. */
const handedOut = new Map<number, number>();

async function storedRsaKey(bits: number): Promise<KeyObject> {
  const n = handedOut.get(bits) ?? 0;
  handedOut.set(bits, n + 1);
  const path = join(store, `rsa-${bits}-${n}.pem`);
  try {
    return createPrivateKey(await readFile(path, "utf8"));
  } catch {
    const { privateKey } = await generate("rsa", { modulusLength: bits, publicExponent: 0x10001 });
    // Written beside, then renamed: a test file running at the same time never reads half a key.
    const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    await mkdir(store, { recursive: true });
    await writeFile(temporary, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await rename(temporary, path);
    return privateKey;
  }
}

export function publicKeyPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: "spki", format: "pem" }) as string;
}

/** Last arc of the NIST hash OIDs 2.16.840.1.101.3.4.2.x, for the PKCS #1 v1.5 DigestInfo. */
const oidArc: Record<Digest, number> = { sha256: 1, sha384: 2, sha512: 3 };

export function signDigest(algorithm: Algorithm, privateKey: KeyObject, digest: Buffer): Buffer {
  if (algorithm.kind === "ec") {
    const d = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
    const curve = algorithm.size === "P-256" ? p256 : p384;
    return Buffer.from(curve.sign(digest, d, { prehash: false, lowS: false, format: "der" }));
  }
  if (algorithm.kind === "rsa-pss") throw new Error("the fake Cloud KMS does not sign with RSA PSS");
  const oid = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, oidArc[algorithm.digest]];
  const algorithmId = [0x30, oid.length + 2, ...oid, 0x05, 0x00];
  const prefix = Buffer.from([0x30, algorithmId.length + 2 + digest.length, ...algorithmId, 0x04, digest.length]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, digest]));
}

export const digestSizes: Readonly<Record<Digest, number>> = { sha256: 32, sha384: 48, sha512: 64 };
