/**
 * Go's encoding/json reading a JSON object into a struct of string fields, with its messages:
 * keys match field names exactly or else case-insensitively, unknown keys are ignored, null
 * leaves a field empty, any other type is an error naming the field, and a document that is not
 * an object (other than null) cannot be read at all.
 */
import { goJsonSyntaxError } from "@signet/plugin-sdk";

export class GoJsonError extends Error {
  override readonly name = "GoJsonError";
}

/**
 * The string fields `names` of the object in `text`; `goType` is the Go type for messages,
 * e.g. "aws.IIDAttestationData". Throws GoJsonError with Go's message.
 */
export function decodeStringFields<K extends string>(text: string, goType: string, names: readonly K[]): Record<K, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GoJsonError(goJsonSyntaxError(text) ?? "unexpected end of JSON input");
  }
  const out = Object.fromEntries(names.map((n) => [n, ""])) as Record<K, string>;
  if (value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new GoJsonError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  const structName = goType.slice(goType.lastIndexOf(".") + 1);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (field === undefined || v === null) continue;
    if (typeof v !== "string") throw new GoJsonError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${structName}.${field} of type string`);
    out[field] = v;
  }
  return out;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v; // string, number, boolean
}
