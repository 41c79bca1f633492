// The contract between the router and the pure resolver.
import type { DnsConfig } from '../config/types.js';
import type { Answer } from '../dns/records.js';

export interface ResolveContext {
  /** Lower-cased FQDN, e.g. "consul." */
  readonly domain: string;
  readonly altDomain?: string;
  /** Whether recursors are configured (RA bit; PTR misses are forwarded). */
  readonly recursors: boolean;
  readonly dns: DnsConfig;
  /** Unix seconds (SOA serial). */
  readonly now: () => number;
  /** [0, 1) — shuffling; injectable so tests can be deterministic. */
  readonly random: () => number;
}

export type Resolution =
  | { readonly kind: 'answer'; readonly answer: Answer }
  /** Outside every zone we serve, or a PTR miss, with recursors configured. */
  | { readonly kind: 'forward' }
  /** Outside every zone, no recursors. */
  | { readonly kind: 'refused' };
