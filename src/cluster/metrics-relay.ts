// Metrics from DNS workers: counted in the worker per label set, shipped in batches, replayed into the primary's hooks.
import type { Transport } from '../dns/records.js';
import type { CacheOutcome, DnsMetrics, GuardAction, QueryZone } from '../metrics/types.js';

/**
 * One interval's events, aggregated: a message per second instead of one per query. Durations are rounded
 * to two significant digits so equal label sets share a row; a histogram bucket boundary can shift by that much.
 */
export interface MetricsBatch {
  readonly queries: readonly (readonly [QueryZone, number, number, Transport, CacheOutcome, number, number])[];
  readonly dropped: readonly (readonly [string, Transport, number])[];
  readonly forwardCache: { readonly hit: number; readonly miss: number };
  readonly upstream: readonly (readonly [string, 'reply' | 'timeout' | 'error' | 'rejected', number, number])[];
  /** Guard actions (action, transport, count); absent when there were none. */
  readonly guard?: readonly (readonly [GuardAction, Transport, number])[];
  /** The latest up/down state of each upstream whose health changed in the interval. */
  readonly health?: readonly (readonly [string, boolean])[];
}

export interface MetricsRecorder {
  /** Pass to the router and forwarder. Catalog events stay local: the primary reports its own catalog. */
  readonly metrics: DnsMetrics;
  /** The events since the last take, or undefined when there were none. */
  take(): MetricsBatch | undefined;
}

const round = (seconds: number): number => (seconds > 0 ? Number(seconds.toPrecision(2)) : 0);

export function createMetricsRecorder(): MetricsRecorder {
  let queries = new Map<string, [QueryZone, number, number, Transport, CacheOutcome, number, number]>();
  let dropped = new Map<string, [string, Transport, number]>();
  let upstream = new Map<string, [string, 'reply' | 'timeout' | 'error' | 'rejected', number, number]>();
  let guard = new Map<string, [GuardAction, Transport, number]>();
  let health = new Map<string, boolean>();
  let hit = 0;
  let miss = 0;
  const metrics: DnsMetrics = {
    query(zone, qtype, rcode, proto, seconds, cache) {
      const s = round(seconds);
      const key = `${zone}|${qtype}|${rcode}|${proto}|${cache}|${s}`;
      const row = queries.get(key);
      if (row) row[6] += 1;
      else queries.set(key, [zone, qtype, rcode, proto, cache, s, 1]);
    },
    dropped(reason, proto) {
      const key = `${reason}|${proto}`;
      const row = dropped.get(key);
      if (row) row[2] += 1;
      else dropped.set(key, [reason, proto, 1]);
    },
    forwardCache(outcome) {
      if (outcome === 'hit') hit += 1;
      else miss += 1;
    },
    upstream(name, result, seconds) {
      const s = round(seconds);
      const key = `${name}|${result}|${s}`;
      const row = upstream.get(key);
      if (row) row[3] += 1;
      else upstream.set(key, [name, result, s, 1]);
    },
    guard(action, proto) {
      const key = `${action}|${proto}`;
      const row = guard.get(key);
      if (row) row[2] += 1;
      else guard.set(key, [action, proto, 1]);
    },
    upstreamHealth(name, up) {
      health.set(name, up);
    },
    catalog: () => undefined,
  };
  return {
    metrics,
    take() {
      if (queries.size + dropped.size + upstream.size + guard.size + health.size + hit + miss === 0) return undefined;
      const batch: MetricsBatch = {
        queries: [...queries.values()], dropped: [...dropped.values()], forwardCache: { hit, miss }, upstream: [...upstream.values()],
        ...(guard.size > 0 ? { guard: [...guard.values()] } : {}),
        ...(health.size > 0 ? { health: [...health] } : {}),
      };
      guard = new Map();
      health = new Map();
      queries = new Map();
      dropped = new Map();
      upstream = new Map();
      hit = 0;
      miss = 0;
      return batch;
    },
  };
}

/** Calls the primary's hooks once per event the batch counts. */
export function replayMetrics(batch: MetricsBatch, into: DnsMetrics): void {
  for (const [zone, qtype, rcode, proto, cache, seconds, n] of batch.queries) {
    for (let i = 0; i < n; i++) into.query(zone, qtype, rcode, proto, seconds, cache);
  }
  for (const [reason, proto, n] of batch.dropped) for (let i = 0; i < n; i++) into.dropped(reason, proto);
  for (let i = 0; i < batch.forwardCache.hit; i++) into.forwardCache('hit');
  for (let i = 0; i < batch.forwardCache.miss; i++) into.forwardCache('miss');
  for (const [name, result, seconds, n] of batch.upstream) for (let i = 0; i < n; i++) into.upstream(name, result, seconds);
  if (into.guard) for (const [action, proto, n] of batch.guard ?? []) for (let i = 0; i < n; i++) into.guard(action, proto);
  for (const [name, up] of batch.health ?? []) into.upstreamHealth(name, up);
}
