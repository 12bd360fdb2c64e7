import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

export interface RateLimitSettings {
  /** Sustained requests per second per API key; 0 disables the limit. */
  readonly perSecond: number;
  /** Requests a key may send at once after being idle (the bucket size). */
  readonly burst: number;
  /**
   * Most keys tracked at once; the least recently seen is forgotten past it
   * (it comes back with a full bucket). Only authenticated keys reach the
   * limiter, so this is a guard, not a limit anyone should meet.
   */
  readonly maxKeys?: number;
  /** Milliseconds clock (tests move it by hand). */
  readonly now?: () => number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per key, in a Map used as an LRU: a key's entry is moved to
 * the end on each use, so the first entry is always the least recently used
 * and the one evicted when the map is full. Memory is O(maxKeys) whatever
 * the traffic.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly settings: RateLimitSettings) {
    if (settings.perSecond < 0 || !Number.isFinite(settings.perSecond))
      throw new Error("perSecond must be a finite number >= 0");
    if (!(settings.burst >= 1)) throw new Error("burst must be >= 1");
    this.maxKeys = settings.maxKeys ?? 10_000;
    this.now = settings.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.settings.perSecond > 0;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `key`, or says in how many whole seconds one will be there. */
  take(key: string): Take {
    if (!this.enabled) return { ok: true };
    const { perSecond, burst } = this.settings;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    this.buckets.delete(key);
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }
}

/**
 * 429 `REQUEST.RATE_LIMITED` with `Retry-After` once a key has used its
 * bucket. Mounted after authentication: `keyOf` names the authenticated key
 * (a fingerprint, never the key), and requests without one (public routes)
 * pass untouched.
 */
export function rateLimit(
  buckets: TokenBuckets,
  keyOf: (c: Parameters<MiddlewareHandler>[0]) => string | undefined,
): MiddlewareHandler {
  return async (c, next) => {
    const key = buckets.enabled ? keyOf(c) : undefined;
    if (key === undefined) return next();
    const taken = buckets.take(key);
    if (taken.ok) return next();
    return problem(
      c,
      "REQUEST.RATE_LIMITED",
      `too many requests for this API key; retry in ${taken.retryAfterS} s`,
      [],
      {
        "retry-after": String(taken.retryAfterS),
      },
    );
  };
}
