/**
 * The k8s_psat payload, byte for byte as SPIRE's agent writes it with Go's encoding/json:
 *
 *   {"cluster":"<cluster name>","token":"<projected service account token>"}
 *
 * Decoding follows encoding/json's rules for that struct: keys match case-insensitively (the
 * last match wins), unknown keys are ignored, null leaves a field empty, and a value of the wrong
 * type is an error in Go's wording.
 */
import { goJsonString } from "@signet/plugin-sdk";

export interface AttestationData {
  readonly cluster: string;
  readonly token: string;
}

/** A document that encoding/json would refuse. */
export class PayloadDecodeError extends Error {
  override readonly name = "PayloadDecodeError";
}

export function encodeAttestationData(data: AttestationData): Buffer {
  return Buffer.from(`{"cluster":${goJsonString(data.cluster)},"token":${goJsonString(data.token)}}`);
}

const goType = "k8s.PSATAttestationData";

export function decodeAttestationData(payload: Buffer): AttestationData {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch (e) {
    throw new PayloadDecodeError((e as Error).message);
  }
  if (value === null) return { cluster: "", token: "" };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new PayloadDecodeError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  const fields: Record<"cluster" | "token", string> = { cluster: "", token: "" };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = key.toLowerCase();
    if (field !== "cluster" && field !== "token") continue;
    if (v === null) continue;
    if (typeof v !== "string") {
      throw new PayloadDecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field PSATAttestationData.${field} of type string`);
    }
    fields[field] = v;
  }
  return fields;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v; // "number", "string", "object"
}
