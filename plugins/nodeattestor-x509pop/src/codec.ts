/**
 * The x509pop wire formats, byte for byte as SPIRE's Go code writes them with encoding/json:
 *
 *   payload    {"certificates":["<base64 DER, leaf first>", …]}
 *   challenge  {"rsa_signature":{"nonce":"<base64 32 bytes>"},"ecdsa_signature":null}
 *              {"rsa_signature":null,"ecdsa_signature":{"nonce":"<base64 32 bytes>"}}
 *   response   {"rsa_signature":{"nonce":"…","signature":"…"},"ecdsa_signature":null}
 *              {"rsa_signature":null,"ecdsa_signature":{"nonce":"…","r":"…","s":"…"}}
 *
 * Decoding follows encoding/json's rules (keys matched case-insensitively, unknown keys ignored,
 * null leaves a field unset, []byte is standard base64) and its error wording.
 */
import { goJsonSyntaxError } from "@signet/plugin-sdk";

export interface AttestationData {
  readonly certificates: readonly Buffer[];
}

export interface Challenge {
  readonly rsaSignature?: { readonly nonce: Buffer } | undefined;
  readonly ecdsaSignature?: { readonly nonce: Buffer } | undefined;
}

export interface Response {
  readonly rsaSignature?: { readonly nonce: Buffer; readonly signature: Buffer } | undefined;
  readonly ecdsaSignature?: { readonly nonce: Buffer; readonly r: Buffer; readonly s: Buffer } | undefined;
}

/** A document that encoding/json would refuse; the message is its wording. */
export class JsonDecodeError extends Error {
  override readonly name = "JsonDecodeError";
}

// -----------------------------------------------------------------------------------------------
// Encoding (Go's field order, nil pointers as null)
// -----------------------------------------------------------------------------------------------

export function encodeAttestationData(data: AttestationData): Buffer {
  return Buffer.from(`{"certificates":${data.certificates.length ? `[${data.certificates.map(b64).join(",")}]` : "null"}}`);
}

export function encodeChallenge(c: Challenge): Buffer {
  const rsa = c.rsaSignature ? `{"nonce":${b64(c.rsaSignature.nonce)}}` : "null";
  const ecdsa = c.ecdsaSignature ? `{"nonce":${b64(c.ecdsaSignature.nonce)}}` : "null";
  return Buffer.from(`{"rsa_signature":${rsa},"ecdsa_signature":${ecdsa}}`);
}

export function encodeResponse(r: Response): Buffer {
  const rsa = r.rsaSignature ? `{"nonce":${b64(r.rsaSignature.nonce)},"signature":${b64(r.rsaSignature.signature)}}` : "null";
  const e = r.ecdsaSignature;
  const ecdsa = e ? `{"nonce":${b64(e.nonce)},"r":${b64(e.r)},"s":${b64(e.s)}}` : "null";
  return Buffer.from(`{"rsa_signature":${rsa},"ecdsa_signature":${ecdsa}}`);
}

/** Go marshals a nil []byte as null and anything else as a base64 string. */
function b64(bytes: Buffer | undefined): string {
  return bytes === undefined ? "null" : `"${bytes.toString("base64")}"`;
}

// -----------------------------------------------------------------------------------------------
// Decoding
// -----------------------------------------------------------------------------------------------

export function decodeAttestationData(bytes: Buffer): AttestationData {
  const doc = parseJson(bytes);
  const fields = structFields(doc, "x509pop.AttestationData", ["certificates"]);
  const list = fields.certificates;
  if (list === undefined || list === null) return { certificates: [] };
  if (!Array.isArray(list)) throw typeError(list, "AttestationData.certificates", "[][]uint8");
  return { certificates: list.map((item) => bytesOf(item, "AttestationData.certificates", "[]uint8") ?? Buffer.alloc(0)) };
}

export function decodeChallenge(bytes: Buffer): Challenge {
  const doc = parseJson(bytes);
  const f = structFields(doc, "x509pop.Challenge", ["rsa_signature", "ecdsa_signature"]);
  return {
    rsaSignature: nonceHolder(f.rsa_signature, "Challenge.rsa_signature", "x509pop.RSASignatureChallenge"),
    ecdsaSignature: nonceHolder(f.ecdsa_signature, "Challenge.ecdsa_signature", "x509pop.ECDSASignatureChallenge"),
  };
}

export function decodeResponse(bytes: Buffer): Response {
  const doc = parseJson(bytes);
  const f = structFields(doc, "x509pop.Response", ["rsa_signature", "ecdsa_signature"]);
  let rsaSignature: Response["rsaSignature"];
  if (f.rsa_signature !== undefined && f.rsa_signature !== null) {
    const r = structFields(f.rsa_signature, "x509pop.RSASignatureResponse", ["nonce", "signature"], "Response.rsa_signature");
    rsaSignature = {
      nonce: bytesOf(r.nonce, "Response.rsa_signature.nonce", "[]uint8") ?? Buffer.alloc(0),
      signature: bytesOf(r.signature, "Response.rsa_signature.signature", "[]uint8") ?? Buffer.alloc(0),
    };
  }
  let ecdsaSignature: Response["ecdsaSignature"];
  if (f.ecdsa_signature !== undefined && f.ecdsa_signature !== null) {
    const e = structFields(f.ecdsa_signature, "x509pop.ECDSASignatureResponse", ["nonce", "r", "s"], "Response.ecdsa_signature");
    ecdsaSignature = {
      nonce: bytesOf(e.nonce, "Response.ecdsa_signature.nonce", "[]uint8") ?? Buffer.alloc(0),
      r: bytesOf(e.r, "Response.ecdsa_signature.r", "[]uint8") ?? Buffer.alloc(0),
      s: bytesOf(e.s, "Response.ecdsa_signature.s", "[]uint8") ?? Buffer.alloc(0),
    };
  }
  return { rsaSignature, ecdsaSignature };
}

function nonceHolder(value: unknown, field: string, goType: string): { nonce: Buffer } | undefined {
  if (value === undefined || value === null) return undefined;
  const f = structFields(value, goType, ["nonce"], field);
  return { nonce: bytesOf(f.nonce, `${field}.nonce`, "[]uint8") ?? Buffer.alloc(0) };
}

function parseJson(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  if (text.trim() === "") throw new JsonDecodeError("unexpected end of JSON input");
  const problem = goJsonSyntaxError(text);
  if (problem) throw new JsonDecodeError(problem);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new JsonDecodeError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The fields of a JSON object as encoding/json assigns them to a struct: a key matches a field
 * name exactly or case-insensitively, later keys overwrite earlier ones, other keys are ignored.
 * A JSON null leaves the whole struct unset.
 */
function structFields<K extends string>(value: unknown, goType: string, names: readonly K[], field?: string): Partial<Record<K, unknown>> {
  const out: Partial<Record<K, unknown>> = {};
  if (value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) {
    if (field) throw typeError(value, field, goType);
    throw new JsonDecodeError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name) out[name] = v;
  }
  return out;
}

/** A []byte field: null → unset, a string → standard base64 (\r and \n ignored, as Go does). */
function bytesOf(value: unknown, field: string, goType: string): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw typeError(value, field, goType);
  const s = value.replace(/[\r\n]/g, "");
  const bad = /[^A-Za-z0-9+/=]/.exec(s);
  if (bad) throw new JsonDecodeError(`illegal base64 data at input byte ${bad.index}`);
  const pad = s.indexOf("=");
  if (s.length % 4 !== 0 || (pad >= 0 && (pad < s.length - 2 || !/^=+$/.test(s.slice(pad))))) {
    throw new JsonDecodeError(`illegal base64 data at input byte ${pad >= 0 ? pad : s.length - (s.length % 4)}`);
  }
  return Buffer.from(s, "base64");
}

function typeError(value: unknown, field: string, goType: string): JsonDecodeError {
  return new JsonDecodeError(`json: cannot unmarshal ${jsonKind(value)} into Go struct field ${field} of type ${goType}`);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  return "object";
}
