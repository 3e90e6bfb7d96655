/**
 * Key generation for the agent's own SVID and for workload SVIDs. Workload
 * keys are made in this process (as SPIRE does) because the Workload API
 * hands them to the workload.
 *
 * Node 20 (OpenSSL 3) exports SPKI and PKCS#8 DER through OpenSSL's encoder
 * framework, ~5× the cost of generating the key; the SEC1 export
 * (ECPrivateKey) takes the direct path and is cheap. An EC key is therefore
 * exported once as SEC1, and both its PKCS#8 and its SubjectPublicKeyInfo
 * are put together from that: the same bytes OpenSSL and Go write
 * (bench/agent-sync keygen figures).
 *
 * Node 20 deadlocks when a fresh KeyObject is asked for a JWK export or
 * for its asymmetricKeyDetails: both hold the key's lock while allocating,
 * a GC can run then, and finalizing the key-generation job takes the same
 * lock (seen in bench/agent-sync: main thread in ~KeyGenJob under
 * GetEcKeyDetail). The DER exports and signing do not allocate under the
 * lock. So neither is ever used here, and CSRs for these keys are signed
 * by csrFor, which takes the signature algorithm from the key type rather
 * than from the key (createCsr would ask asymmetricKeyDetails).
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createCsrWithSigner, type ExternalCsrParams, type SignatureAlgorithm } from "@signet/spiffe";
import type { WorkloadKeyType } from "../config/agent-config.js";

export interface GeneratedKey {
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
  /** The private key as PKCS#8 DER (what the Workload API hands out). */
  readonly pkcs8: Buffer;
  /** How CSRs for this key are signed. */
  readonly algorithm: SignatureAlgorithm;
}

// AlgorithmIdentifier { id-ecPublicKey, namedCurve } of each curve, DER.
const p256Algorithm = Buffer.from("301306072a8648ce3d020106082a8648ce3d030107", "hex");
const p384Algorithm = Buffer.from("301006072a8648ce3d020106052b81040022", "hex");
const pkcs8Version = Buffer.from("020100", "hex");

export function generateKey(type: WorkloadKeyType): GeneratedKey {
  switch (type) {
    case "ec-p256":
      return ecKey("P-256", p256Algorithm, "ECDSA-SHA256");
    case "ec-p384":
      return ecKey("P-384", p384Algorithm, "ECDSA-SHA384");
    case "rsa-2048": {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const spki = publicKey.export({ type: "spki", format: "der" });
      return { privateKey, spki, pkcs8: privateKey.export({ type: "pkcs8", format: "der" }), algorithm: "SHA256-RSA" };
    }
  }
}

/** A PKCS#10 request for `key`, signed by it (see the header for why not createCsr). */
export function csrFor(key: GeneratedKey, params: Omit<ExternalCsrParams, "spki"> = {}): Promise<Buffer> {
  const hash = key.algorithm === "ECDSA-SHA384" ? "sha384" : "sha256";
  const signingKey = { key: key.privateKey, dsaEncoding: "der" as const };
  return createCsrWithSigner({ ...params, spki: key.spki }, { algorithm: key.algorithm, sign: (info) => sign(hash, info, signingKey) });
}

function ecKey(namedCurve: "P-256" | "P-384", keyAlgorithm: Buffer, algorithm: SignatureAlgorithm): GeneratedKey {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve });
  return { privateKey, ...fromSec1(privateKey.export({ type: "sec1", format: "der" }), keyAlgorithm), algorithm };
}

/**
 * PKCS#8 and SPKI from an ECPrivateKey (RFC 5915) as OpenSSL writes it:
 * SEQUENCE { version, privateKey, [0] parameters, [1] publicKey }. PKCS#8
 * carries the curve in its AlgorithmIdentifier, so the inner ECPrivateKey
 * drops [0] (as OpenSSL's and Go's PKCS#8 encoders do); the SPKI is the
 * algorithm and the [1] BIT STRING.
 */
export function fromSec1(sec1: Buffer, algorithm: Buffer): { spki: Buffer; pkcs8: Buffer } {
  const outer = readTlv(sec1, 0);
  if (outer.tag !== 0x30 || outer.end !== sec1.length) throw new Error("SEC1 key: expected one SEQUENCE");
  const kept: Buffer[] = [];
  let publicKey: Buffer | undefined;
  for (let at = outer.start; at < outer.end; ) {
    const e = readTlv(sec1, at);
    if (e.tag === 0xa1) publicKey = sec1.subarray(e.start, e.end);
    if (e.tag !== 0xa0) kept.push(sec1.subarray(at, e.end));
    at = e.end;
  }
  if (!publicKey || publicKey[0] !== 0x03) throw new Error("SEC1 key: public key missing");
  const inner = tlv(0x30, kept);
  return {
    spki: tlv(0x30, [algorithm, publicKey]),
    pkcs8: tlv(0x30, [pkcs8Version, algorithm, tlv(0x04, [inner])]),
  };
}

function readTlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 2) throw new Error("SEC1 key: unexpected length encoding");
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | der[start + i]!;
    start += n;
  }
  const end = start + length;
  if (end > der.length) throw new Error("SEC1 key: truncated");
  return { tag, start, end };
}

function tlv(tag: number, parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), ...parts], header.length + length);
}
