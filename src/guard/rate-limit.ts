// Response rate limiting (dns_config.rate_limit): a token bucket per client network, in a bounded table.
import type { RateLimitConfig } from '../config/types.js';
import { networkKey } from './client-network.js';

/** What to do with one UDP response: send it, drop it, or send an empty TC=1 reply instead (a "slip"). */
export const RateDecision = { PASS: 0, DROP: 1, SLIP: 2 } as const;
export type RateDecision = (typeof RateDecision)[keyof typeof RateDecision];

/**
 * Networks tracked at once. A spoofed flood names a new network per packet; past this the oldest bucket goes,
 * so memory stays bounded (about 100 bytes a bucket) whatever the flood.
 */
export const DEFAULT_MAX_NETWORKS = 100_000;

export interface RateLimiterOptions extends RateLimitConfig {
  readonly maxNetworks?: number;
  /** Milliseconds, monotonic (default performance.now); tests inject a clock. */
  readonly now?: () => number;
}

export interface RateLimiter {
  check(address: string): RateDecision;
  /** Networks in the table now. */
  readonly networks: number;
}

interface Bucket {
  tokens: number;
  /** When tokens was last brought up to date (ms). */
  last: number;
  /** Responses limited so far: every slip-th of them slips. */
  limited: number;
}

/**
 * Each network may send `burst` responses at once and `responsesPerSecond` after that (tokens refill
 * continuously up to the burst; a burst below 1 counts as 1, so a configured rate always lets something
 * through). A network seen for the first time starts with a full bucket.
 */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const rate = opts.responsesPerSecond;
  if (!(rate > 0)) throw new RangeError(`responsesPerSecond must be positive, got ${rate}`);
  const capacity = Math.max(1, opts.burst);
  const perMs = rate / 1000;
  const slip = Math.max(0, Math.trunc(opts.slip));
  const maxNetworks = Math.max(1, opts.maxNetworks ?? DEFAULT_MAX_NETWORKS);
  const now = opts.now ?? (() => performance.now());
  const { ipv4PrefixLength: v4, ipv6PrefixLength: v6 } = opts;
  const buckets = new Map<number | string, Bucket>();

  return {
    get networks() { return buckets.size; },
    check(address: string): RateDecision {
      const key = networkKey(address, v4, v6);
      // Sockets only report IP literals; anything else is not ours to limit.
      if (key === undefined) return RateDecision.PASS;
      const t = now();
      const b = buckets.get(key);
      if (b === undefined) {
        if (buckets.size >= maxNetworks) {
          for (const k of buckets.keys()) { buckets.delete(k); break; }
        }
        buckets.set(key, { tokens: capacity - 1, last: t, limited: 0 });
        return RateDecision.PASS;
      }
      if (t > b.last) {
        b.tokens = Math.min(capacity, b.tokens + (t - b.last) * perMs);
        b.last = t;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return RateDecision.PASS;
      }
      b.limited += 1;
      return slip > 0 && b.limited % slip === 0 ? RateDecision.SLIP : RateDecision.DROP;
    },
  };
}
