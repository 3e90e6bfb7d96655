import { X509Certificate } from "node:crypto";
import type { Validity } from "../svid/rotation.js";

/** A workload X509-SVID the agent holds for one registration entry. */
export interface X509SvidRecord {
  readonly entryId: string;
  readonly spiffeId: string;
  /** The entry revision it was minted for; a new revision means a new SVID. */
  readonly revision: bigint;
  /** Leaf first, DER. */
  readonly chain: readonly Buffer[];
  /**
   * The private key as PKCS#8 DER, what the Workload API sends. Only this
   * is kept: a KeyObject costs ~6 KB of native memory per SVID.
   */
  readonly keyDer: Buffer;
  readonly validity: Validity;
  readonly rotateAt: number;
}

/**
 * The key and chain of one SVID copied into one allocation of their own.
 * The decoded certificates and the generated key are slices of Node's
 * shared 8 KB buffer pool, whose other contents (CSRs, messages) are
 * short-lived: kept as they are, 10k cached SVIDs pin ~3x their size in
 * pool slabs.
 */
export function compactSvidBytes(keyDer: Buffer, chain: readonly Buffer[]): { keyDer: Buffer; chain: Buffer[] } {
  let size = keyDer.length;
  for (const c of chain) size += c.length;
  const block = Buffer.allocUnsafeSlow(size);
  let at = keyDer.copy(block, 0);
  const copied = chain.map((c) => {
    const start = at;
    at += c.copy(block, at);
    return block.subarray(start, at);
  });
  return { keyDer: block.subarray(0, keyDer.length), chain: copied };
}

/** Whether any certificate of `chain` was issued by one of `authorities` (DER roots/intermediates). */
export function chainsTo(chain: readonly Buffer[], authorities: readonly X509Certificate[]): boolean {
  if (authorities.length === 0) return false;
  for (const der of chain) {
    const cert = new X509Certificate(der);
    for (const a of authorities) if (cert.checkIssued(a) && cert.verify(a.publicKey)) return true;
  }
  return false;
}
