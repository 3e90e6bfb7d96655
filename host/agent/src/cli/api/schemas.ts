/**
 * `-output json` field tables for the Workload API messages the api commands
 * print (names from workload.proto). Maps print as objects of base64 values;
 * ValidateJWTSVIDResponse's claims (a google.protobuf.Struct) print as the
 * JSON object they are.
 */
import type { FieldSchema, MessageSchema } from "@signet/host-common";

const f = (name: string, key: string, kind: FieldSchema["kind"], repeated = false): FieldSchema =>
  repeated ? { name, key, kind, repeated } : { name, key, kind };

export const x509SvidResponse: MessageSchema = [
  f("svids", "svids", { message: () => x509Svid }, true),
  f("crl", "crl", "bytes", true),
];
const x509Svid: MessageSchema = [
  f("spiffe_id", "spiffeId", "string"),
  f("x509_svid", "x509Svid", "bytes"),
  f("x509_svid_key", "x509SvidKey", "bytes"),
  f("bundle", "bundle", "bytes"),
  f("hint", "hint", "string"),
];

export const jwtSvidResponse: MessageSchema = [f("svids", "svids", { message: () => jwtSvid }, true)];
const jwtSvid: MessageSchema = [f("spiffe_id", "spiffeId", "string"), f("svid", "svid", "string"), f("hint", "hint", "string")];

export const validateJwtSvidResponse: MessageSchema = [f("spiffe_id", "spiffeId", "string")];

/** A map<string, bytes> field as protojson writes it: an object of standard base64 strings. */
export function bytesMap(map: Readonly<Record<string, Uint8Array>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) out[k] = Buffer.from(v).toString("base64");
  return out;
}

/** What SPIRE's cliprinter does after protojson: nulls dropped at every level (encoding/json re-encode). */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(dropNulls);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out;
  }
  return value;
}
