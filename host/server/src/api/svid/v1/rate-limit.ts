/**
 * SPIRE's per-RPC rate limits (pkg/server/api/middleware/ratelimit.go): a
 * token bucket per caller IP with burst == rate per second. A request for
 * more tokens than the burst fails at once with ResourceExhausted; otherwise
 * it waits for its tokens, as Go's limiter.WaitN does.
 *
 * Handlers call a RateLimit with SPIRE's counts (BatchNewX509SVID: one per
 * CSR; AttestAgent, RenewAgent, NewJWTSVID, NewDownstreamX509CA, PostStatus:
 * one) and wrap a refusal in SPIRE's "rejecting request due to …" wording.
 * Which methods are limited, and how much, is the endpoint wiring's choice
 * (ctx.method tells them apart).
 */
import { type CallContext, Code, RpcError } from "@signet/proto";

export type RateLimit = (ctx: CallContext, count: number) => void | Promise<void>;

export interface PerIpRateLimitOptions {
  /** Tokens per second, also the burst. */
  readonly perSecond: number;
  /** The caller's address ("ipv4:10.0.0.1:5000", "ipv6:[::1]:5000", "unix:…"). */
  readonly address: (ctx: CallContext) => string;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Buckets idle this long are forgotten (default 1 minute). */
  readonly idleMs?: number;
}

export function perIpRateLimit(options: PerIpRateLimitOptions): RateLimit {
  const { perSecond } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const idleMs = options.idleMs ?? 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  return async (ctx, count) => {
    if (count > perSecond) throw new RpcError(Code.RESOURCE_EXHAUSTED, `rate (${count}) exceeds burst size (${perSecond})`);
    const t = now();
    for (const [key, b] of buckets) if (t - b.at > idleMs && b.tokens >= perSecond) buckets.delete(key);
    const key = ipOf(options.address(ctx));
    const bucket = buckets.get(key) ?? { tokens: perSecond, at: t };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    bucket.tokens -= count;
    buckets.set(key, bucket);
    if (bucket.tokens >= 0) return;
    const waitMs = (-bucket.tokens / perSecond) * 1000;
    await sleep(waitMs, ctx.signal);
    if (ctx.signal.aborted) throw new RpcError(Code.CANCELLED, "context canceled");
  };
}

/** The IP part of a grpc-js peer string; Unix socket callers share one bucket. */
export function ipOf(address: string): string {
  const m = /^ipv[46]:(\[[^\]]*\]|[^:]*)/.exec(address);
  return m ? m[1]!.replace(/^\[|\]$/g, "") : address.split(":")[0] ?? address;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
