/**
 * The header and trailer values gRPC over HTTP/2 defines beside the messages
 * (the gRPC "PROTOCOL-HTTP2" document): `grpc-timeout`, `grpc-message`'s
 * percent-encoding, and the status a failed HTTP exchange stands for.
 */
import { constants } from "node:http2";
import { Code } from "../errors.js";

/** `grpc-timeout` for a time left in ms: at most 8 digits, in the finest unit that fits. */
export function encodeTimeout(ms: number): string {
  const left = Math.max(0, ms);
  if (left < 1e5) return `${Math.ceil(left * 1000)}u`;
  if (left < 1e8) return `${Math.ceil(left)}m`;
  if (left < 1e11) return `${Math.ceil(left / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(left / 60_000))}M`;
}

const timeoutUnitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** A `grpc-timeout` value in ms, or undefined when it is absent or not well formed. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * timeoutUnitMs[m[2]!]!;
}

/** `grpc-message`: bytes outside printable ASCII, and '%', as %XX of their UTF-8. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(byte);
  }
  return out;
}

/** The reverse of `encodeGrpcMessage`; a malformed escape is kept as it is, as the spec asks. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The status a response with HTTP status `status` and no grpc-status stands for (the spec's table). */
export function codeForHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

/** The status an RST_STREAM with `rstCode` stands for (the spec's table). */
export function codeForResetStream(rstCode: number): Code {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return Code.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return Code.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return Code.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return Code.PERMISSION_DENIED;
    default:
      return Code.INTERNAL;
  }
}
