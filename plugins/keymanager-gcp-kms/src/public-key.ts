/**
 * Reading a CryptoKeyVersion's public key from Cloud KMS, as SPIRE does: a
 * version that is still PENDING_GENERATION (large RSA keys take a while) is
 * polled again with backoff, up to 10 attempts; the PEM must match its
 * CRC32C; the answer must name the version asked for; and the key must be
 * the type the version's algorithm says. Answers the PKIX (SPKI) DER.
 */
import { createPublicKey } from "node:crypto";
import type { Algorithm } from "./algorithms.js";
import type { Clock } from "@signet/plugin-sdk";
import { crc32c, checksumMatches } from "./crc32c.js";
import { type Deadline, type Kms, KmsError, type PublicKeyAnswer } from "./kms-client.js";

export const getPublicKeyMaxAttempts = 10;
const backoffMinMs = 10;
const backoffMaxMs = 1000;
const never = new AbortController().signal;

export async function fetchPublicKey(kms: Kms, clock: Clock, versionName: string, algorithm: Algorithm, deadline: Deadline): Promise<Buffer> {
  const answer = await getWhenEnabled(kms, clock, versionName, deadline);
  if (!checksumMatches(answer.pemCrc32c, crc32c(Buffer.from(answer.pem)))) throw new Error("response corrupted in-transit");
  if (answer.name !== versionName) throw new Error(`response corrupted in-transit: asked for the public key of ${versionName}, got ${answer.name}`);
  return spkiOf(answer.pem, algorithm);
}

async function getWhenEnabled(kms: Kms, clock: Clock, versionName: string, deadline: Deadline): Promise<PublicKeyAnswer> {
  let backoff = backoffMinMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await kms.getPublicKey(versionName, deadline);
    } catch (e) {
      if (!(e instanceof KmsError) || attempt >= getPublicKeyMaxAttempts) throw e;
      // Only a version still being generated (or just enabled) is worth asking again.
      const version = await kms.getCryptoKeyVersion(versionName, deadline);
      if (version.state !== "PENDING_GENERATION" && version.state !== "ENABLED") throw e;
    }
    backoff = Math.min(backoff * 2, backoffMaxMs);
    await clock.sleep(backoff, never);
  }
}

const pemPattern = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/;

function spkiOf(pem: string, algorithm: Algorithm): Buffer {
  const m = pemPattern.exec(pem.trim() + "\n");
  if (!m) throw new Error("public key is not a PEM PUBLIC KEY block");
  const der = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  let key;
  try {
    key = createPublicKey({ key: der, format: "der", type: "spki" });
  } catch (e) {
    throw new Error(`public key is not PKIX DER: ${(e as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  const expected: Record<Algorithm, boolean> = {
    EC_SIGN_P256_SHA256: key.asymmetricKeyType === "ec" && details.namedCurve === "prime256v1",
    EC_SIGN_P384_SHA384: key.asymmetricKeyType === "ec" && details.namedCurve === "secp384r1",
    RSA_SIGN_PKCS1_2048_SHA256: key.asymmetricKeyType === "rsa" && details.modulusLength === 2048,
    RSA_SIGN_PKCS1_4096_SHA256: key.asymmetricKeyType === "rsa" && details.modulusLength === 4096,
  };
  if (!expected[algorithm]) throw new Error(`public key is not a key of algorithm ${algorithm}`);
  return der;
}
