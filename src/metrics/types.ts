// The metrics hooks every layer calls; a no-op by default, Prometheus (src/metrics/prometheus.ts) when wired.
import type { Transport } from '../dns/records.js';

export type QueryZone = 'domain' | 'arpa' | 'forward' | 'refused' | 'error';
export type CacheOutcome = 'hit' | 'miss' | 'none';

/** What the guard (src/guard/) did instead of the ordinary reply. */
export const GUARD_ACTIONS = [
  'recursion-refused', // a client outside recursion_allow asked for a name outside our zones
  'norecurse-refused', // RD=0 for a name outside our zones, not in the forward cache
  'norecurse-cached', // RD=0 answered from the forward cache
  'any-minimal', // ANY over UDP answered with RFC 8482's HINFO instead of being forwarded
  'rate-limit-drop', // a UDP response withheld by rate limiting
  'rate-limit-slip', // a UDP response replaced by an empty TC=1 reply by rate limiting
] as const;
export type GuardAction = (typeof GUARD_ACTIONS)[number];

export interface DnsMetrics {
  /** One reply sent (or, for forwards, resolved). `seconds` from receipt to reply. */
  query(zone: QueryZone, qtype: number, rcode: number, proto: Transport, seconds: number, cache: CacheOutcome): void;
  /** A query that got no reply at all (garbage, QR=1, source port 0, caps). */
  dropped(reason: string, proto: Transport): void;
  /** Forward cache lookups. */
  forwardCache(outcome: 'hit' | 'miss'): void;
  /** One upstream exchange ended. */
  upstream(upstream: string, result: 'reply' | 'timeout' | 'error' | 'rejected', seconds: number): void;
  /** The forwarder marked an upstream up (asked) or down (skipped: failing, or disabled as a loop). */
  upstreamHealth(upstream: string, up: boolean): void;
  /** A catalog snapshot was published. */
  catalog(instances: number, nodes: number, buildSeconds: number): void;
  /** The guard acted (optional, so sinks written before it need no change). */
  guard?(action: GuardAction, proto: Transport): void;
}

export const noopMetrics: DnsMetrics = {
  query: () => undefined,
  dropped: () => undefined,
  forwardCache: () => undefined,
  upstream: () => undefined,
  upstreamHealth: () => undefined,
  catalog: () => undefined,
  guard: () => undefined,
};
