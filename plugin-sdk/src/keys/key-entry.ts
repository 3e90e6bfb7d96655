/**
 * One KeyManager key: its public half as the wire answers it, and what
 * signing needs, computed once (a KeyObject, and for EC keys the private
 * scalar), so no call re-parses key material.
 *
 * Behaviour follows SPIRE's keymanager base (pkg/{server,agent}/plugin/keymanager/base):
 * the fingerprint is the hex SHA-256 of the key's PKIX DER, and the key types
 * are EC P-256, EC P-384, RSA 2048 and RSA 4096.
 */
import { type KeyObject, createHash, createPublicKey, generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import type { Curve } from "./signing.js";

/** KeyType values on the wire (spire.plugin.{server,agent}.keymanager.v1.KeyType). */
export const KeyType = { EC_P256: 1, EC_P384: 2, RSA_2048: 3, RSA_4096: 4 } as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

/** The public half, as a KeyManager answers it. */
export interface PublicKeyInfo {
  readonly id: string;
  readonly type: KeyType;
  readonly pkixData: Buffer;
  readonly fingerprint: string;
}

/** A subset of the SDK's PluginErrorKind, so `codeOfKind` gives its status code. */
export type KeyManagerErrorKind = "invalid-argument" | "not-found" | "internal";

/** A KeyManager's domain error; the plugin's service edge maps `kind` to a status code. */
export class KeyManagerError extends Error {
  override readonly name = "KeyManagerError";
  constructor(
    readonly kind: KeyManagerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A key with everything signing needs. `privateKey` is there for stores that persist it; never log it. */
export interface KeyEntry {
  readonly info: PublicKeyInfo;
  readonly privateKey: KeyObject;
  /** @internal How signData signs with this key. */
  readonly signer: Signer;
}

/** @internal */
export type Signer =
  | { readonly kind: "ec"; readonly curve: Curve; readonly scalar: Uint8Array }
  | { readonly kind: "rsa"; readonly privateKey: KeyObject; readonly modulusBits: number };

const generate = promisify(generateKeyPair);

/** Generates key `id` of wire type `type`, refusing an empty id and unknown types as invalid arguments. */
export async function generateKeyEntry(id: string, type: number): Promise<KeyEntry> {
  if (id === "") throw new KeyManagerError("invalid-argument", "key id is required");
  if (type === 0) throw new KeyManagerError("invalid-argument", "key type is required");
  if (!isKeyType(type)) throw new KeyManagerError("invalid-argument", `unable to generate key ${JSON.stringify(id)} for unknown key type ${type}`);
  const { privateKey } =
    type === KeyType.EC_P256 || type === KeyType.EC_P384
      ? await generate("ec", { namedCurve: type === KeyType.EC_P256 ? "P-256" : "P-384" })
      : await generate("rsa", { modulusLength: type === KeyType.RSA_2048 ? 2048 : 4096, publicExponent: 0x10001 });
  return entryOf(id, type, privateKey);
}

/**
 * The entry for a stored private key (say, PKCS #8 read back from disk). Its
 * type follows from the key; a key of no supported type (another curve, an
 * RSA modulus other than 2048 or 4096, Ed25519) is refused with a message that
 * says what it is.
 */
export function keyEntryFromPrivateKey(id: string, privateKey: KeyObject): KeyEntry {
  if (privateKey.type !== "private") throw new KeyManagerError("invalid-argument", `key ${JSON.stringify(id)} is not a private key`);
  return entryOf(id, keyTypeOf(id, privateKey), privateKey);
}

/** Hex SHA-256 of the PKIX DER, as SPIRE's keymanager base computes it. */
export function fingerprintOf(pkixData: Buffer): string {
  return createHash("sha256").update(pkixData).digest("hex");
}

export function isKeyType(type: number): type is KeyType {
  return type === KeyType.EC_P256 || type === KeyType.EC_P384 || type === KeyType.RSA_2048 || type === KeyType.RSA_4096;
}

function entryOf(id: string, type: KeyType, privateKey: KeyObject): KeyEntry {
  const pkixData = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const info: PublicKeyInfo = { id, type, pkixData, fingerprint: fingerprintOf(pkixData) };
  return { info, privateKey, signer: signerFor(type, privateKey) };
}

function signerFor(type: KeyType, privateKey: KeyObject): Signer {
  if (type === KeyType.EC_P256 || type === KeyType.EC_P384) {
    const d = privateKey.export({ format: "jwk" }).d;
    if (!d) throw new KeyManagerError("internal", "EC key has no private scalar");
    return { kind: "ec", curve: type === KeyType.EC_P256 ? "P-256" : "P-384", scalar: Buffer.from(d, "base64url") };
  }
  return { kind: "rsa", privateKey, modulusBits: type === KeyType.RSA_2048 ? 2048 : 4096 };
}

function keyTypeOf(id: string, key: KeyObject): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") {
    if (details.namedCurve === "prime256v1") return KeyType.EC_P256;
    if (details.namedCurve === "secp384r1") return KeyType.EC_P384;
    throw new KeyManagerError("invalid-argument", `key ${JSON.stringify(id)} is an EC key on unsupported curve ${details.namedCurve ?? "(unknown)"}; expected P-256 or P-384`);
  }
  if (key.asymmetricKeyType === "rsa") {
    if (details.modulusLength === 2048) return KeyType.RSA_2048;
    if (details.modulusLength === 4096) return KeyType.RSA_4096;
    throw new KeyManagerError("invalid-argument", `key ${JSON.stringify(id)} is an RSA key of unsupported size ${details.modulusLength ?? "(unknown)"}; expected 2048 or 4096 bits`);
  }
  throw new KeyManagerError("invalid-argument", `key ${JSON.stringify(id)} is of unsupported type ${key.asymmetricKeyType ?? "(unknown)"}; expected EC or RSA`);
}
