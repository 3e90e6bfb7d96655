/**
 * Selectors of a connection's caller, reused for calls on that same
 * connection for a short while (default 1 s) instead of attesting the
 * process again each time. The connection's peer is pinned by its pidfd, so
 * the cache can only ever answer for the process that connected; the
 * liveness check still runs on every call.
 *
 * Why this is no looser than SPIRE: SPIRE attests a FetchX509SVID stream
 * once and then serves that stream for its whole life, whatever the process
 * does afterwards (setuid, exec). Reusing a unary call's attestation on the
 * same connection for a second grants less than that.
 */
import type { Selector } from "@signet/host-common";

export class ConnectionSelectors<Peer extends object> {
  private readonly byPeer = new WeakMap<Peer, { readonly at: number; readonly selectors: Promise<Selector[]> }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The selectors for `peer`: reused while younger than maxAgeMs, else from `attest` (failures are not kept). */
  selectorsOf(peer: Peer, attest: () => Promise<Selector[]>): Promise<Selector[]> {
    const have = this.byPeer.get(peer);
    const now = this.now();
    if (have && this.maxAgeMs > 0 && now - have.at <= this.maxAgeMs) return have.selectors;
    const selectors = attest();
    const entry = { at: now, selectors };
    this.byPeer.set(peer, entry);
    selectors.catch(() => {
      if (this.byPeer.get(peer) === entry) this.byPeer.delete(peer);
    });
    return selectors;
  }
}
