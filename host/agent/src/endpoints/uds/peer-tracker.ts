/**
 * Which process is behind each call on the Workload API's Unix socket
 * (SPIRE's peertracker). The server is handed each accepted connection
 * together with the peer read from the kernel at accept, and every call
 * made over that connection carries it as its context's `connection`; the
 * tracker knows which of those peers are still live.
 *
 * A call whose connection is not tracked (or no longer) is refused with
 * SPIRE's Internal "peer tracker watcher missing from context": it is never
 * served under a guessed identity.
 */
import type { Socket } from "node:net";
import type { CallContext } from "@signet/proto";
import type { PeerProcess } from "../peer/index.js";

export const peerTrackerMissing = "peer tracker watcher missing from context";

export class PeerTracker {
  private readonly live = new Set<PeerProcess>();

  /** Tracks a socket's peer until the socket closes, then releases the peer. */
  track(socket: Socket, peer: PeerProcess): void {
    this.live.add(peer);
    socket.once("close", () => this.release(peer));
    if (socket.destroyed) this.release(peer);
  }

  /** The peer of the connection a call arrived on, while that connection is tracked. */
  connectionOf(ctx: Pick<CallContext, "connection">): PeerProcess | undefined {
    const peer = ctx.connection as PeerProcess | undefined;
    return peer !== undefined && this.live.has(peer) ? peer : undefined;
  }

  /** Live tracked connections. */
  get size(): number {
    return this.live.size;
  }

  /** Releases every peer (server shutdown). */
  releaseAll(): void {
    for (const peer of [...this.live]) this.release(peer);
  }

  private release(peer: PeerProcess): void {
    if (!this.live.delete(peer)) return;
    peer.close();
  }
}
