/**
 * JWT-SVIDs the agent has fetched, per (SPIFFE ID, sorted audiences): a
 * token is reused until half of its lifetime has passed (SPIRE's rule), and
 * at most `maxSize` are kept, least recently used dropped first.
 */
export interface CachedJwtSvid {
  readonly token: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export class JwtSvidCache {
  private readonly tokens = new Map<string, CachedJwtSvid>();

  constructor(private readonly maxSize: number) {}

  static keyOf(spiffeId: string, audience: readonly string[]): string {
    return `${spiffeId}\n${[...audience].sort().join("\n")}`;
  }

  /** A token still fresh (less than half its lifetime gone) at `nowMs`. */
  fresh(key: string, nowMs: number): CachedJwtSvid | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    const half = (t.issuedAt + (t.expiresAt - t.issuedAt) / 2) * 1000;
    if (nowMs >= half) return undefined;
    this.tokens.delete(key);
    this.tokens.set(key, t);
    return t;
  }

  /** A token not yet expired (fallback when the server cannot be reached). */
  valid(key: string, nowMs: number): CachedJwtSvid | undefined {
    const t = this.tokens.get(key);
    return t && nowMs < t.expiresAt * 1000 ? t : undefined;
  }

  put(key: string, t: CachedJwtSvid): void {
    if (this.maxSize <= 0) return;
    this.tokens.delete(key);
    this.tokens.set(key, t);
    while (this.tokens.size > this.maxSize) this.tokens.delete(this.tokens.keys().next().value!);
  }

  get size(): number {
    return this.tokens.size;
  }
}
