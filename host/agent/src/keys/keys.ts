/**
 * Key generation for the agent's own SVID and for workload SVIDs. Workload
 * keys are made in this process (as SPIRE does) because the Workload API
 * hands them to the workload. The SubjectPublicKeyInfo of an EC key is
 * built from the JWK coordinates behind a fixed DER prefix: exporting SPKI
 * DER costs ~20× more than generating the key (bench/workload-api notes).
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import type { WorkloadKeyType } from "../config/agent-config.js";

export interface GeneratedKey {
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
}

// SEQUENCE { SEQUENCE { id-ecPublicKey, <curve> }, BIT STRING (0 unused bits) 04 || X || Y }
const p256Prefix = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex");
const p384Prefix = Buffer.from("3076301006072a8648ce3d020106052b81040022036200", "hex");

export function generateKey(type: WorkloadKeyType): GeneratedKey {
  switch (type) {
    case "ec-p256":
      return ecKey("P-256", p256Prefix);
    case "ec-p384":
      return ecKey("P-384", p384Prefix);
    case "rsa-2048": {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      return { privateKey, spki: publicKey.export({ type: "spki", format: "der" }) };
    }
  }
}

function ecKey(namedCurve: "P-256" | "P-384", prefix: Buffer): GeneratedKey {
  // The public half comes out of key generation as a JWK. Exporting a JWK
  // from the fresh KeyObject afterwards can deadlock Node 20 (a GC during
  // ExportJWKEcKey waits on the lock the export holds), so never do that.
  const { privateKey, publicKey } = generateJwkPair("ec", { namedCurve, publicKeyEncoding: { format: "jwk" } });
  const x = Buffer.from(publicKey.x, "base64url");
  const y = Buffer.from(publicKey.y, "base64url");
  return { privateKey, spki: Buffer.concat([prefix, Buffer.from([4]), x, y]) };
}

/** Node accepts `publicKeyEncoding: { format: "jwk" }`; @types/node 20 does not list it. */
const generateJwkPair = generateKeyPairSync as unknown as (
  type: "ec",
  options: { namedCurve: string; publicKeyEncoding: { format: "jwk" } },
) => { privateKey: KeyObject; publicKey: { x: string; y: string } };
