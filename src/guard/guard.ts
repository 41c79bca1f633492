// The guard settings one config gives the router: who may use forwarding, the rate limiter, RFC 8482's TTL.
import type { DnsConfig } from '../config/types.js';
import { createRecursionAcl, type RecursionAcl } from './acl.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';

export interface Guard {
  readonly acl: RecursionAcl;
  /** Undefined when rate limiting is off (responses_per_second 0): the router then never looks at it. */
  readonly limiter: RateLimiter | undefined;
  /** TTL of the synthesized HINFO answering ANY over UDP for names outside our zones. */
  readonly anyTtl: number;
}

/**
 * RFC 8482 leaves the TTL to the implementer. The HINFO says nothing about the name and never changes, so
 * an hour lets resolvers downstream answer repeated ANY themselves instead of asking again.
 */
export const MINIMAL_ANY_TTL = 3600;

export function createGuard(dns: Pick<DnsConfig, 'recursionAllow' | 'rateLimit'>): Guard {
  const rl = dns.rateLimit;
  return {
    acl: createRecursionAcl(dns.recursionAllow),
    limiter: rl.responsesPerSecond > 0 ? createRateLimiter(rl) : undefined,
    anyTtl: MINIMAL_ANY_TTL,
  };
}

/** What decides the guard; a reload that changes none of it keeps the guard, and with it the rate limiter's buckets. */
export function guardKey(dns: Pick<DnsConfig, 'recursionAllow' | 'rateLimit'>): string {
  return JSON.stringify([dns.recursionAllow, dns.rateLimit]);
}

/** For a router built without guard settings (unit tests, embedders): forwarding for everyone, no limits. */
export const OPEN_GUARD: Guard = {
  acl: { allows: () => true },
  limiter: undefined,
  anyTtl: MINIMAL_ANY_TTL,
};
