/** Small key facts the CA needs: key types from config, SKIs of bare keys, JWT key ids. */
import { type KeyObject, createHash, randomBytes } from "node:crypto";
import { KeyType } from "@signet/host-common";
import type { KeyType as ConfigKeyType } from "../config/server-config.js";

/** server.conf's ca_key_type / jwt_key_type as the KeyManager's enum. */
export function keyManagerKeyType(type: ConfigKeyType): KeyType {
  switch (type) {
    case "ec-p256":
      return KeyType.EC_P256;
    case "ec-p384":
      return KeyType.EC_P384;
    case "rsa-2048":
      return KeyType.RSA_2048;
    case "rsa-4096":
      return KeyType.RSA_4096;
  }
}

/** SPIRE's x509util.GetSubjectKeyID as hex: SHA-1 of the subjectPublicKey bits. */
export function authorityIdOfKey(publicKey: KeyObject): string {
  let bits: Buffer;
  if (publicKey.asymmetricKeyType === "rsa") {
    bits = publicKey.export({ type: "pkcs1", format: "der" });
  } else if (publicKey.asymmetricKeyType === "ec") {
    const jwk = publicKey.export({ format: "jwk" });
    bits = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
  } else {
    throw new Error(`unsupported key type ${publicKey.asymmetricKeyType ?? "unknown"}`);
  }
  return createHash("sha1").update(bits).digest("hex");
}

const keyIdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A JWT key id: 32 characters of [a-zA-Z0-9], one per random byte (SPIRE's newKeyID). */
export function newJwtKeyId(): string {
  return [...randomBytes(32)].map((b) => keyIdAlphabet[b % keyIdAlphabet.length]).join("");
}
