/**
 * Proof of possession, as SPIRE's x509pop does it: the server sends a 32-byte nonce, the agent
 * adds its own 32-byte nonce and signs SHA-256(server nonce ‖ agent nonce) with the leaf key:
 * RSA-PSS (SHA-256, MGF1-SHA-256; signed with the largest salt, verified with any) or ECDSA
 * (the digest signed as is; r and s sent as minimal big-endian bytes).
 */
import { type KeyObject, constants, randomBytes, sign, verify } from "node:crypto";
import type { Challenge, Response } from "./codec.js";
import { type Certificate, KeyUsage } from "./certificate.js";

export const nonceLength = 32;

/** Why a challenge could not be issued or answered, or a response does not hold. */
export class PopError extends Error {
  override readonly name = "PopError";
}

/** A challenge for the leaf's key type; the leaf must allow digital signatures. */
export function generateChallenge(leaf: Certificate): Challenge {
  if ((leaf.keyUsage & KeyUsage.digitalSignature) === 0) throw new PopError("certificate not intended for digital signature use");
  switch (leaf.publicKey.type) {
    case "rsa":
      return { rsaSignature: { nonce: randomBytes(nonceLength) } };
    case "ecdsa":
      return { ecdsaSignature: { nonce: randomBytes(nonceLength) } };
    case "ed25519":
      throw new PopError("unsupported public key type ed25519.PublicKey");
    default:
      throw new PopError("unsupported public key type <nil>");
  }
}

/** The agent's answer to `challenge` with `privateKey` (an RSA or EC private key). */
export function calculateResponse(privateKey: KeyObject, challenge: Challenge): Response {
  switch (privateKey.asymmetricKeyType) {
    case "rsa": {
      if (!challenge.rsaSignature) throw new PopError("expecting RSA challenge");
      const nonce = randomBytes(nonceLength);
      const message = combined(challenge.rsaSignature.nonce, nonce);
      const signature = sign("sha256", message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN });
      return { rsaSignature: { nonce, signature } };
    }
    case "ec": {
      if (!challenge.ecdsaSignature) throw new PopError("expecting ECDSA challenge");
      const nonce = randomBytes(nonceLength);
      const message = combined(challenge.ecdsaSignature.nonce, nonce);
      // ECDSA over SHA-256(message) is exactly Go's ecdsa.Sign of the SHA-256 digest.
      const p1363 = sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const half = p1363.length / 2;
      return { ecdsaSignature: { nonce, r: minimal(p1363.subarray(0, half)), s: minimal(p1363.subarray(half)) } };
    }
    default:
      throw new PopError(`unsupported private key type ${privateKey.asymmetricKeyType ?? "unknown"}`);
  }
}

/** Throws PopError with SPIRE's wording unless `response` proves possession of the leaf's key. */
export function verifyResponse(leaf: Certificate, challenge: Challenge, response: Response): void {
  const key = leaf.publicKey;
  switch (key.type) {
    case "rsa": {
      if (!challenge.rsaSignature) throw new PopError("expecting RSA challenge");
      if (!response.rsaSignature) throw new PopError("expecting RSA response");
      const message = combined(challenge.rsaSignature.nonce, response.rsaSignature.nonce);
      const ok = safeVerify(() =>
        verify("sha256", message, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, response.rsaSignature!.signature),
      );
      if (!ok) throw new PopError("RSA signature verify failed");
      return;
    }
    case "ecdsa": {
      if (!challenge.ecdsaSignature) throw new PopError("expecting ECDSA challenge");
      if (!response.ecdsaSignature) throw new PopError("expecting ECDSA response");
      const { nonce, r, s } = response.ecdsaSignature;
      const message = combined(challenge.ecdsaSignature.nonce, nonce);
      const size = curveBytes(key.curve);
      const rr = minimal(r);
      const ss = minimal(s);
      const ok = rr.length <= size && ss.length <= size && safeVerify(() => verify("sha256", message, { key: key.key, dsaEncoding: "ieee-p1363" }, Buffer.concat([pad(rr, size), pad(ss, size)])));
      if (!ok) throw new PopError("ECDSA signature verify failed");
      return;
    }
    default:
      throw new PopError(`unsupported private key type ${key.type === "ed25519" ? "ed25519.PublicKey" : "<nil>"}`);
  }
}

/** The signed message: the digest is SHA-256 over both nonces, each exactly 32 bytes. */
function combined(challengeNonce: Buffer, responseNonce: Buffer): Buffer {
  if (challengeNonce.length !== nonceLength) throw new PopError("invalid challenge nonce");
  if (responseNonce.length !== nonceLength) throw new PopError("invalid response nonce");
  return Buffer.concat([challengeNonce, responseNonce]);
}

function safeVerify(run: () => boolean): boolean {
  try {
    return run();
  } catch {
    return false;
  }
}

function curveBytes(curve: string): number {
  return { secp224r1: 28, prime256v1: 32, secp384r1: 48, secp521r1: 66 }[curve] ?? 0;
}

/** big.Int.Bytes(): no leading zeros (and empty for zero). */
function minimal(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return Buffer.from(b.subarray(i));
}

function pad(b: Buffer, size: number): Buffer {
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}
