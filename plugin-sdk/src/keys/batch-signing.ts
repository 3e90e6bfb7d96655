/**
 * Signing whole messages in batches (Signet's BatchSigner extension): the
 * plugin hashes each message itself, so node:crypto's one-shot `sign` does
 * the whole job (OpenSSL, with the key's KeyObject parsed once), instead of
 * the digest paths SignData needs.
 *
 * Encodings are those of SignData (Go's crypto.Signer): ECDSA as ASN.1 DER,
 * RSA PKCS #1 v1.5 and PSS as raw bytes. Limits are the ones
 * proto/defs/signet/plugin/keymanager/v1/batchsigner.proto states.
 */
import { type KeyObject, constants, sign } from "node:crypto";
import type { KeyEntry } from "./key-entry.js";
import { type Hash, SigningInputError } from "./signing.js";

/** Limits of one SignMessages request; over any of them nothing is signed. */
export const batchLimits = {
  maxMessages: 1024,
  maxMessageBytes: 64 * 1024,
  maxTotalBytes: 3 * 1024 * 1024,
} as const;

/** Why a batch is refused as a whole, or undefined when it is within the limits. */
export function batchLimitProblem(messages: readonly Uint8Array[]): string | undefined {
  if (messages.length > batchLimits.maxMessages) {
    return `batch of ${messages.length} messages exceeds the limit of ${batchLimits.maxMessages}`;
  }
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const size = messages[i]!.length;
    if (size > batchLimits.maxMessageBytes) {
      return `message ${i} is ${size} bytes, exceeding the limit of ${batchLimits.maxMessageBytes}`;
    }
    total += size;
  }
  if (total > batchLimits.maxTotalBytes) return `messages total ${total} bytes, exceeding the limit of ${batchLimits.maxTotalBytes}`;
  return undefined;
}

/** How one batch is signed, in node:crypto's terms. */
export type MessageSigning =
  | { readonly kind: "ecdsa"; readonly hash: Hash }
  | { readonly kind: "pkcs1v15"; readonly hash: Hash }
  | { readonly kind: "pss"; readonly hash: Hash; readonly saltLength: number };

/**
 * Resolves Go's PSS salt-length convention (0 = as long as the key allows,
 * -1 = the hash length) to bytes, refusing one that does not fit the key,
 * with the same wording as digest signing.
 */
export function pssSaltLength(modulusBits: number, hash: Hash, saltLength: number): number {
  const emLen = Math.ceil((modulusBits - 1) / 8);
  const maxSalt = emLen - hash.size - 2;
  const sLen = saltLength === 0 ? maxSalt : saltLength === -1 ? hash.size : saltLength;
  if (sLen < 0 || sLen > maxSalt) {
    throw new SigningInputError(`PSS salt length ${saltLength} does not fit a ${modulusBits}-bit key with ${hash.name} (at most ${maxSalt})`);
  }
  return sLen;
}

/** Signs each message with `entry`'s key, in order. */
export function signMessagesWith(entry: KeyEntry, messages: readonly Buffer[], how: MessageSigning): Buffer[] {
  const key: KeyObject = entry.privateKey;
  const out = new Array<Buffer>(messages.length);
  if (how.kind === "ecdsa") {
    const options = { key, dsaEncoding: "der" as const };
    for (let i = 0; i < messages.length; i++) out[i] = sign(how.hash.node, messages[i]!, options);
  } else if (how.kind === "pkcs1v15") {
    const options = { key, padding: constants.RSA_PKCS1_PADDING };
    for (let i = 0; i < messages.length; i++) out[i] = sign(how.hash.node, messages[i]!, options);
  } else {
    const options = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: how.saltLength };
    for (let i = 0; i < messages.length; i++) out[i] = sign(how.hash.node, messages[i]!, options);
  }
  return out;
}
