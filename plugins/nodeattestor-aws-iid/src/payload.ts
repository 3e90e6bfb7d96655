/**
 * The attestation data the agent sends (SPIRE's caws.IIDAttestationData): a JSON object with the
 * instance identity document as IMDS serves it, its RSA-1024 signature (base64) and its RSA-2048
 * PKCS #7 signature (base64, no PEM armor). Field order and escaping are Go's json.Marshal.
 */
import { goJsonString } from "@signet/plugin-sdk";
import { GoJsonError, decodeStringFields } from "./go-struct.js";

export interface AttestationData {
  readonly document: string;
  readonly signature: string;
  readonly rsa2048: string;
}

/** Larger than any real payload (about 3 KiB) by far; anything bigger is refused unread. */
export const maxPayloadBytes = 64 * 1024;

export function encodeAttestationData(data: AttestationData): Buffer {
  return Buffer.from(`{"document":${goJsonString(data.document)},"signature":${goJsonString(data.signature)},"rsa2048":${goJsonString(data.rsa2048)}}`);
}

export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

/** PayloadError with SPIRE's message (after "failed to unmarshal the attestation data: "). */
export function decodeAttestationData(payload: Buffer): AttestationData {
  if (payload.length > maxPayloadBytes) throw new PayloadError(`payload of ${payload.length} bytes is larger than ${maxPayloadBytes}`);
  try {
    return decodeStringFields(payload.toString("utf8"), "aws.IIDAttestationData", ["document", "signature", "rsa2048"] as const);
  } catch (e) {
    if (e instanceof GoJsonError) throw new PayloadError(e.message);
    throw e;
  }
}
