import { X509Certificate, type KeyObject } from "node:crypto";
import type { Validity } from "../svid/rotation.js";

/** A workload X509-SVID the agent holds for one registration entry. */
export interface X509SvidRecord {
  readonly entryId: string;
  readonly spiffeId: string;
  /** The entry revision it was minted for; a new revision means a new SVID. */
  readonly revision: bigint;
  /** Leaf first, DER. */
  readonly chain: readonly Buffer[];
  readonly privateKey: KeyObject;
  /** PKCS#8 DER of privateKey, exported once (the Workload API sends it on every update). */
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
