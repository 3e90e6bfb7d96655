/**
 * The agent's manager (SPIRE's pkg/agent/manager): keeps the cache in step
 * with the server. Every sync interval (10% jitter) it runs
 * SyncAuthorizedEntries, fetches the own and federated bundles, and mints
 * the X509-SVIDs that are missing, due for rotation, of an older entry
 * revision or signed by a tainted authority, in BatchNewX509SVID calls of at
 * most 500, two in flight (the cap halves after a failed call and doubles
 * back after success). It also wakes for the earliest SVID rotation and when a
 * workload needs an SVID not cached yet. Failures back off ×1.5 up to
 * min(8 min, 48 × interval).
 */
import { X509Certificate } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import type { Clock, Logger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import type { ServerClient } from "../client/client.js";
import type { WorkloadKeyType } from "../config/agent-config.js";
import { csrFor, generateKey } from "../keys/keys.js";
import { rotationTime, validityOf } from "../svid/rotation.js";
import type { AgentCache } from "./cache.js";
import { JwtSvidCache } from "./jwt-cache.js";
import { chainsTo, compactSvidBytes, type X509SvidRecord } from "./x509-svid.js";

export const maxBatchSize = 500;
/** BatchNewX509SVID calls outstanding at once while minting. */
const maxCallsInFlight = 2;
/** Longest stretch of key generation between two turns of the event loop. */
const prepareSliceMs = 5;

interface PreparedSvid {
  readonly entry: Entry;
  readonly spiffeId: string;
  readonly csr: Buffer;
  readonly keyDer: Buffer;
}

export interface ManagerOptions {
  readonly client: ServerClient;
  readonly cache: AgentCache;
  readonly clock: Clock;
  readonly log: Logger;
  readonly trustDomain: string;
  readonly keyType: WorkloadKeyType;
  readonly syncIntervalMs: number;
  readonly x509SvidCacheMaxSize: number;
  readonly disableX509SvidPrefetch: boolean;
  readonly jwtSvidCacheMaxSize: number;
  /** experimental.jwt_svid_cache_hit_timeout: the call's deadline when a still-valid cached token can stand in. */
  readonly jwtSvidCacheHitTimeoutMs?: number;
  readonly availabilityTargetMs?: number;
  /** The agent SVID chains to a tainted authority. */
  readonly onAgentSvidTainted: (tainted: readonly X509Certificate[]) => void;
  /** A sync failed; answer false to stop the loop (the agent is shutting down or must re-attest). */
  readonly onSyncError: (err: unknown) => Promise<boolean> | boolean;
}

export class Manager {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private wakeEarly: (() => void) | undefined;
  private batchCap = maxBatchSize;
  private readonly jwt: JwtSvidCache;
  private lastSync = 0;
  private syncing: Promise<void> | undefined;
  /** After a failed pass, nothing (not even a due rotation) runs before this instant. */
  private retryAt = 0;
  /** Entries the server refused: not asked for again before this instant (the next full sync). */
  private readonly refusedUntil = new Map<string, number>();
  /** Entries found well-formed (each decoded entry object is checked once; see usable()). */
  private readonly usableEntries = new WeakSet<Entry>();

  constructor(private readonly options: ManagerOptions) {
    this.jwt = new JwtSvidCache(options.jwtSvidCacheMaxSize);
    options.cache.setWantedListener(() => this.wakeEarly?.());
  }

  /** When the last sync finished without error (ms since the epoch; 0: never). */
  get lastSyncSuccess(): number {
    return this.lastSync;
  }

  get jwtSvidCount(): number {
    return this.jwt.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeEarly?.();
    await this.loop;
  }

  /** One full pass; concurrent callers share it. */
  synchronize(): Promise<void> {
    this.syncing ??= this.pass(true).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** A JWT-SVID for `entry` with `audience`, from the cache while fresh. */
  async fetchJwtSvid(entry: Entry, audience: readonly string[]): Promise<string> {
    const spiffeId = spiffeIdOf(entry);
    const key = JwtSvidCache.keyOf(spiffeId, audience);
    const now = this.options.clock.now().getTime();
    const fresh = this.jwt.fresh(key, now);
    if (fresh) return fresh.token;
    const fallback = this.jwt.valid(key, now);
    try {
      const svid = await this.options.client.newJwtSvid(entry.id, audience, fallback ? (this.options.jwtSvidCacheHitTimeoutMs ?? 30_000) : undefined);
      this.jwt.put(key, { token: svid.token, issuedAt: Number(svid.issuedAt), expiresAt: Number(svid.expiresAt) });
      return svid.token;
    } catch (e) {
      const stale = fallback;
      if (stale) {
        this.options.log.warn("Could not fetch a new JWT-SVID; serving the cached one", { spiffe_id: spiffeId, error: messageOf(e) });
        return stale.token;
      }
      throw e;
    }
  }

  private async run(): Promise<void> {
    const { clock, syncIntervalMs } = this.options;
    const maxBackoff = Math.min(8 * 60_000, 48 * syncIntervalMs);
    let backoff = 0;
    let nextSync = clock.now().getTime() + jittered(syncIntervalMs);
    while (!this.abort.signal.aborted) {
      const now = clock.now().getTime();
      const due = Math.max(this.retryAt, Math.min(nextSync, this.earliestRotation()));
      if (due > now) {
        const woken = new AbortController();
        const onAbort = () => woken.abort();
        this.abort.signal.addEventListener("abort", onAbort, { once: true });
        this.wakeEarly = () => woken.abort();
        await clock.sleep(due - now, woken.signal);
        this.wakeEarly = undefined;
        this.abort.signal.removeEventListener("abort", onAbort);
      }
      if (this.abort.signal.aborted) return;
      const full = clock.now().getTime() >= nextSync;
      try {
        if (full) await this.synchronize();
        else await this.pass(false);
        if (full) {
          backoff = 0;
          nextSync = clock.now().getTime() + jittered(syncIntervalMs);
        }
        this.retryAt = 0;
      } catch (e) {
        this.options.log.error("Synchronization failed", { error: messageOf(e) });
        if (!(await this.options.onSyncError(e))) return;
        backoff = backoff === 0 ? syncIntervalMs : Math.min(backoff * 1.5, maxBackoff);
        // With nothing cached yet, keep trying at the normal pace (SPIRE clamps back to the interval).
        if (this.options.cache.svidCount === 0) backoff = syncIntervalMs;
        nextSync = clock.now().getTime() + backoff;
        this.retryAt = nextSync;
      }
    }
  }

  /** A sync pass: with `full`, entries and bundles from the server first; then mint what is due. */
  private async pass(full: boolean): Promise<void> {
    const { cache, client, log } = this.options;
    if (full) {
      // Refused entries are asked for again at every full sync, not in between.
      this.refusedUntil.clear();
      const entries = (await client.syncAuthorizedEntries(cache.entryMap)).filter((e) => this.usable(e));
      cache.setEntries(entries);
      const own = await client.getBundle();
      cache.setBundles(own, await this.federatedBundles(entries));
    }
    const tainted = full ? taintedAuthorities(cache.ownBundle) : [];
    if (tainted.length > 0) this.options.onAgentSvidTainted(tainted);
    await this.mintDue(tainted);
    cache.evict(Math.max(this.options.x509SvidCacheMaxSize, cache.subscribedEntries().size));
    if (full) {
      this.lastSync = this.options.clock.now().getTime();
      log.debug("Synchronized", { entries: cache.entryMap.size, svids: cache.svidCount });
    }
  }

  private usable(e: Entry): boolean {
    // The sync hands back the cached object for an unchanged entry, so each entry is checked once, not every 5 s.
    if (this.usableEntries.has(e)) return true;
    const bad = (why: string) => {
      this.options.log.warn("Skipping malformed entry", { entry_id: e.id, reason: why });
      return false;
    };
    if (e.id === "") return bad("missing entry ID");
    try {
      spiffeIdOf(e);
    } catch (err) {
      return bad(`invalid SPIFFE ID: ${messageOf(err)}`);
    }
    if (e.selectors.length === 0) return bad("no selectors");
    if (e.selectors.some((s) => s.type === "" || s.value === "")) return bad("invalid selector");
    this.usableEntries.add(e);
    return true;
  }

  private async federatedBundles(entries: readonly Entry[]): Promise<Map<string, Bundle>> {
    const domains = new Set<string>();
    for (const e of entries) for (const td of e.federatesWith) domains.add(td.replace(/^spiffe:\/\//, ""));
    const out = new Map<string, Bundle>();
    const list = [...domains];
    for (let i = 0; i < list.length; i += 10) {
      await Promise.all(
        list.slice(i, i + 10).map(async (td) => {
          try {
            out.set(td, await this.options.client.getFederatedBundle(td));
          } catch (e) {
            if (e instanceof RpcError && e.code === Code.NOT_FOUND) {
              this.options.log.warn("Federated bundle not found", { trust_domain: td });
              return;
            }
            throw e;
          }
        }),
      );
    }
    return out;
  }

  /** Which entries need a new SVID now, wanted ones first. */
  private dueEntries(tainted: readonly X509Certificate[]): Entry[] {
    const { cache, x509SvidCacheMaxSize, disableX509SvidPrefetch } = this.options;
    const now = this.options.clock.now().getTime();
    const due: Entry[] = [];
    const seen = new Set<string>();
    const push = (e: Entry | undefined) => {
      if (e && !seen.has(e.id)) {
        seen.add(e.id);
        due.push(e);
      }
    };
    const refused = (id: string) => (this.refusedUntil.get(id) ?? 0) > now;
    for (const id of cache.takeWanted()) if (!refused(id)) push(cache.entryMap.get(id));
    const subscribed = cache.subscribedEntries();
    for (const id of subscribed) if (!cache.svidOf(id) && !refused(id)) push(cache.entryMap.get(id));
    let held = cache.svidCount;
    for (const e of cache.entryMap.values()) {
      if (refused(e.id)) continue;
      const svid = cache.svidOf(e.id);
      if (svid) {
        if (svid.revision !== e.revisionNumber || now >= svid.rotateAt || chainsTo(svid.chain, tainted)) push(e);
      } else if (!disableX509SvidPrefetch && held < x509SvidCacheMaxSize) {
        held++;
        push(e);
      }
    }
    return due;
  }

  /**
   * Mints what is due in batches, at most two calls in flight. Keys and
   * CSRs are made without waiting for answers: while the server signs one
   * batch it already holds the next, and the agent prepares the one after
   * (a prepared batch waits for a free slot), so neither side waits for
   * the other. Batches are sized for the cap the calls in flight will
   * leave on success; a failed call halves the cap from its own size, the
   * calls still in flight finish, and the pass fails.
   */
  private async mintDue(tainted: readonly X509Certificate[]): Promise<void> {
    const due = this.dueEntries(tainted);
    const inFlight = new Set<Promise<void>>();
    let failed: { error: unknown } | undefined;
    let cap = this.batchCap;
    for (let offset = 0; offset < due.length && !failed; ) {
      const batch = await this.prepare(due.slice(offset, offset + cap));
      while (inFlight.size >= maxCallsInFlight && !failed) await Promise.race(inFlight);
      if (failed) break;
      offset += batch.length;
      const sentWithCap = cap;
      const call: Promise<void> = this.send(batch)
        .then((records) => this.options.cache.putSvids(records))
        .catch((error: unknown) => {
          this.batchCap = Math.max(1, Math.floor(sentWithCap / 2));
          failed ??= { error };
        })
        .finally(() => inFlight.delete(call));
      inFlight.add(call);
      cap = Math.min(maxBatchSize, cap * 2);
    }
    await Promise.all(inFlight);
    if (failed) throw failed.error;
    if (due.length > 0) this.batchCap = cap;
  }

  /**
   * A key and a CSR per entry; only the key's PKCS#8 DER is kept. Yields to
   * the event loop every few milliseconds so that the calls in flight keep
   * moving (HTTP/2 flow control needs this side to read and acknowledge).
   */
  private async prepare(entries: readonly Entry[]): Promise<PreparedSvid[]> {
    const out: PreparedSvid[] = [];
    let sliceStart = performance.now();
    for (const entry of entries) {
      const key = generateKey(this.options.keyType);
      const spiffeId = spiffeIdOf(entry);
      const csr = await csrFor(key, { uriSans: [spiffeId] });
      out.push({ entry, spiffeId, csr, keyDer: key.pkcs8 });
      if (performance.now() - sliceStart >= prepareSliceMs) {
        await setImmediate();
        sliceStart = performance.now();
      }
    }
    return out;
  }

  private async send(prepared: readonly PreparedSvid[]): Promise<X509SvidRecord[]> {
    const results = await this.options.client.newX509Svids(prepared.map((p) => ({ entryId: p.entry.id, csr: p.csr })));
    const out: X509SvidRecord[] = [];
    const now = this.options.clock.now().getTime();
    results.forEach((r, i) => {
      const { entry, spiffeId, keyDer } = prepared[i]!;
      if (!r.svid) {
        this.options.log.warn("Server refused an X509-SVID", { entry_id: entry.id, code: r.error?.code, error: r.error?.message });
        this.refusedUntil.set(entry.id, now + this.options.syncIntervalMs);
        return;
      }
      this.refusedUntil.delete(entry.id);
      const validity = validityOf(r.svid.certChain[0]!);
      out.push({
        entryId: entry.id,
        spiffeId,
        revision: entry.revisionNumber,
        ...compactSvidBytes(keyDer, r.svid.certChain),
        validity,
        rotateAt: rotationTime(validity, Math.random(), this.options.availabilityTargetMs, now),
      });
    });
    this.options.log.debug("Minted X509-SVIDs", { count: out.length, requested: prepared.length });
    return out;
  }

  private earliestRotation(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const s of this.options.cache.allSvids()) {
      const at = Math.max(s.rotateAt, this.refusedUntil.get(s.entryId) ?? 0);
      if (at < t) t = at;
    }
    return t;
  }
}

export function spiffeIdOf(e: Entry): string {
  const id = e.spiffeId;
  if (!id) throw new Error("missing SPIFFE ID");
  return SpiffeId.fromPath(TrustDomain.parse(id.trustDomain), id.path).toString();
}

function taintedAuthorities(bundle: Bundle | undefined): X509Certificate[] {
  return (bundle?.x509Authorities ?? []).filter((a) => a.tainted).map((a) => new X509Certificate(a.asn1));
}

function jittered(ms: number): number {
  return ms * (0.9 + 0.2 * Math.random());
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
