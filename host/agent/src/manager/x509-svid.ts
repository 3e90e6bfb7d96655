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

/** Whether any certificate of `chain` was issued by one of `authorities` (DER roots/intermediates). */
export function chainsTo(chain: readonly Buffer[], authorities: readonly X509Certificate[]): boolean {
  if (authorities.length === 0) return false;
  for (const der of chain) {
    const cert = new X509Certificate(der);
    for (const a of authorities) if (cert.checkIssued(a) && cert.verify(a.publicKey)) return true;
  }
  return false;
}
