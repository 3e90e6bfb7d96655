/**
 * Attestation of a connection's caller with the PID-reuse guard (SPIRE's
 * PeerTrackerAttestor): attest the PID, then make sure the process that
 * connected is still the one holding it, so the selectors cannot belong to
 * a process that took over the PID meanwhile.
 */
import { Code, RpcError } from "@signet/proto";
import type { PeerProcess } from "./read-peer.js";

export async function attestCaller<T>(peer: PeerProcess, attest: (pid: number) => Promise<T>): Promise<T> {
  const result = await attest(peer.pid);
  const reason = peer.exitReason();
  if (reason !== undefined) {
    // SPIRE drops the connection here; releasing the pidfd has the same
    // effect on every later call made over it ("no longer being watched").
    peer.close();
    throw new RpcError(Code.UNAUTHENTICATED, `could not verify existence of the original caller: ${reason}`);
  }
  return result;
}
