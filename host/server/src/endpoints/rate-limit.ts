/**
 * Per-source-IP rate limits of SPIRE's server API (pkg/server/endpoints/
 * middleware.go RateLimits, pkg/server/api/limits): token buckets whose
 * burst equals the per-second rate, as golang.org/x/time/rate does it —
 * a request for n tokens reserves them at once (the bucket may go negative)
 * and waits until they would have accrued. Pure: time comes in as numbers.
 */
import { Code, RpcError } from "@signet/proto";

export const attestLimitPerIp = 1;
export const signLimitPerIp = 500;
export const pushKeyLimitPerIp = 500;
export const postStatusLimitPerIp = 10;

/** One token bucket (golang.org/x/time/rate.Limiter with limit = burst = rate). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    nowMs: number,
  ) {
    this.tokens = rate;
    this.last = nowMs;
  }

  get burst(): number {
    return this.rate;
  }

  /**
   * Takes n tokens: milliseconds to wait before going ahead, or an
   * RpcError ResourceExhausted when n can never fit in the bucket.
   */
  reserve(n: number, nowMs: number): number {
    if (n > this.burst) throw new RpcError(Code.RESOURCE_EXHAUSTED, `rate (${n}) exceeds burst size (${this.burst})`);
    this.advance(nowMs);
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** Whether the bucket is full at `nowMs` (an idle bucket can be forgotten). */
  isFull(nowMs: number): boolean {
    this.advance(nowMs);
    return this.tokens >= this.burst;
  }

  private advance(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) * this.rate) / 1000);
      this.last = nowMs;
    }
  }
}

/** One bucket per source IP; full, idle buckets are dropped now and then so the map stays small. */
export class PerIpLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private nextSweep = 0;

  constructor(
    readonly rate: number,
    private readonly sweepEveryMs = 60_000,
  ) {}

  reserve(ip: string, n: number, nowMs: number): number {
    this.sweep(nowMs);
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      bucket = new TokenBucket(this.rate, nowMs);
      this.buckets.set(ip, bucket);
    }
    return bucket.reserve(n, nowMs);
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweep) return;
    this.nextSweep = nowMs + this.sweepEveryMs;
    for (const [ip, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(ip);
  }
}

/** How a limited method counts its request and words its refusal. */
export interface MethodLimit {
  readonly limiter: PerIpLimiter;
  /** Tokens the request costs; 0 = let the handler reject it (e.g. empty batch). */
  readonly cost: (request: unknown) => number;
  /** SPIRE's "rejecting request due to … rate limiting" prefix. */
  readonly message: string;
}

export interface RateLimitConfig {
  /** ratelimit.attestation */
  readonly attestation: boolean;
  /** ratelimit.signing */
  readonly signing: boolean;
}

const one = () => 1;
const perParam = (request: unknown) => {
  const params = (request as { params?: unknown } | undefined)?.params;
  return Array.isArray(params) ? params.length : 0;
};

/** The limited methods, by full path; methods not listed are unlimited. */
export function methodLimits(config: RateLimitConfig): ReadonlyMap<string, MethodLimit> {
  const limits = new Map<string, MethodLimit>();
  if (config.attestation) {
    limits.set("/spire.api.server.agent.v1.Agent/AttestAgent", {
      limiter: new PerIpLimiter(attestLimitPerIp),
      cost: one,
      message: "rejecting request due to attest agent rate limiting",
    });
  }
  if (config.signing) {
    // SPIRE shares one limiter between the CSR-signing methods.
    const csr = new PerIpLimiter(signLimitPerIp);
    limits.set("/spire.api.server.svid.v1.SVID/BatchNewX509SVID", { limiter: csr, cost: perParam, message: "rejecting request due to certificate signing rate limiting" });
    limits.set("/spire.api.server.agent.v1.Agent/RenewAgent", { limiter: csr, cost: one, message: "rejecting request due to renew agent rate limiting" });
    limits.set("/spire.api.server.svid.v1.SVID/NewDownstreamX509CA", { limiter: csr, cost: one, message: "rejecting request due to downstream CA signing rate limit" });
    limits.set("/spire.api.server.svid.v1.SVID/NewJWTSVID", {
      limiter: new PerIpLimiter(signLimitPerIp),
      cost: one,
      message: "rejecting request due to JWT signing request rate limiting",
    });
    limits.set("/spire.api.server.svid.v1.SVID/BatchNewWITSVID", {
      limiter: new PerIpLimiter(signLimitPerIp),
      cost: perParam,
      message: "rejecting request due to certificate signing rate limiting",
    });
  }
  const pushKey = new PerIpLimiter(pushKeyLimitPerIp);
  limits.set("/spire.api.server.bundle.v1.Bundle/PublishJWTAuthority", { limiter: pushKey, cost: one, message: "rejecting request due to key publishing rate limiting" });
  limits.set("/spire.api.server.bundle.v1.Bundle/PublishWITAuthority", { limiter: pushKey, cost: one, message: "rejecting request due to key publishing rate limiting" });
  limits.set("/spire.api.server.agent.v1.Agent/PostStatus", {
    limiter: new PerIpLimiter(postStatusLimitPerIp),
    cost: one,
    message: "rejecting request due to post status rate limiting",
  });
  return limits;
}
