// Prometheus metrics (prom-client) behind the DnsMetrics hooks: plain-number cells on the hot path, copied out at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricType } from 'prom-client';
import { Rcode, RrType, type Transport } from '../dns/records.js';
import { GUARD_ACTIONS, type CacheOutcome, type DnsMetrics, type GuardAction, type QueryZone } from './types.js';

export interface PrometheusMetrics extends DnsMetrics {
  readonly registry: Registry;
  /** The Content-Type of render()'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;
  render(): Promise<string>;
  /** A state file write failed (retries included); `errno` is the OS's code, undefined for other failures. */
  stateWriteFailed(errno: string | undefined): void;
}

/** 10 µs – 1 s: an in-zone answer from cached bytes is tens of µs, a slow upstream hundreds of ms. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** A snapshot build ranges from a patched check (µs) to a 100,000-instance start (seconds). */
export const BUILD_BUCKETS: readonly number[] = [0.00001, 0.0001, 0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30];

const ZONES: readonly QueryZone[] = ['domain', 'arpa', 'forward', 'refused', 'error'];
const UPSTREAM_RESULTS = ['reply', 'timeout', 'error', 'rejected'] as const;
type UpstreamResult = (typeof UPSTREAM_RESULTS)[number];
/** Label values come from code and config, but a bug must not turn them into unbounded series. */
const MAX_REASONS = 32;
const MAX_UPSTREAMS = 64;

/** Types we only forward, so their names are not in RrType; any other qtype is labelled by its number. */
const MORE_QTYPES = { HINFO: 13, NAPTR: 35, DNAME: 39, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, TLSA: 52, SVCB: 64, HTTPS: 65, CAA: 257 } as const;
const MORE_RCODES = { YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10 } as const;
const QTYPE_NAMES = new Map<number, string>(Object.entries({ ...RrType, ...MORE_QTYPES }).map(([name, n]) => [n, name]));
const RCODE_NAMES = new Map<number, string>(Object.entries({ ...Rcode, ...MORE_RCODES }).map(([name, n]) => [n, name]));
/**
 * Qtypes without a name share one series, labelled "other": a client may ask any of 65,536 types, and each must
 * not become a series of its own (memory, and /metrics size). 0 is reserved (RFC 6895), so it stands for them.
 */
const OTHER_QTYPE = 0;
const metricQtype = (qtype: number): number => (QTYPE_NAMES.has(qtype) ? qtype : OTHER_QTYPE);
const qtypeLabel = (qtype: number): string => QTYPE_NAMES.get(qtype) ?? 'other';
const rcodeLabel = (rcode: number): string => RCODE_NAMES.get(rcode) ?? String(rcode);

function zoneIndex(zone: QueryZone): number {
  switch (zone) {
    case 'domain': return 0;
    case 'arpa': return 1;
    case 'forward': return 2;
    case 'refused': return 3;
    default: return 4;
  }
}

type Labels = Record<string, string>;

interface CountCell { readonly labels: Labels; n: number }

/** One histogram series: per-bucket (not cumulative) counts, the last one past the top bound. */
class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const v = value >= 0 ? value : 0; // NaN and negatives (clock steps) count as instant rather than poison the sum
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
  }
}

type HistogramValues = Awaited<ReturnType<Histogram['get']>>;
/** prom-client's typings call this a numeric enum; its runtime and the text format use the string. */
const HISTOGRAM_TYPE = 'histogram' as unknown as MetricType;
/** The typings also want a collect function on exported values; ours are computed already. */
const noCollect = (): void => undefined;

/** A prom-client Histogram whose series are read from HistogramCells, because observe() hashes labels on every call. */
class CellHistogram extends Histogram<string> {
  constructor(
    config: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registry: Registry },
    private readonly cells: () => Iterable<HistogramCell>,
  ) {
    super({ name: config.name, help: config.help, labelNames: [...config.labelNames], buckets: [...config.buckets], registers: [config.registry] });
    this.series = { name: config.name, help: config.help, buckets: config.buckets };
  }

  private readonly series: { readonly name: string; readonly help: string; readonly buckets: readonly number[] };

  override async get(): Promise<HistogramValues> {
    const { name, help, buckets } = this.series;
    const values: HistogramValues['values'] = [];
    for (const cell of this.cells()) {
      let acc = 0;
      buckets.forEach((le, i) => {
        acc += cell.counts[i] as number;
        values.push({ labels: { ...cell.labels, le }, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...cell.labels, le: '+Inf' }, value: cell.count, metricName: `${name}_bucket` });
      values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${name}_count` });
    }
    return { name, help, type: HISTOGRAM_TYPE, values, aggregator: 'sum', collect: noCollect };
  }

  /** Registry.metrics() prefers this over get(); the shape is the same once labels are flat. */
  getForPromString(): Promise<HistogramValues> {
    return this.get();
  }
}

interface UpstreamCell {
  readonly upstream: string;
  readonly results: Float64Array; // indexed like UPSTREAM_RESULTS
  up: number;
  readonly latency: HistogramCell;
}

function upstreamResultIndex(result: UpstreamResult): number {
  switch (result) {
    case 'reply': return 0;
    case 'timeout': return 1;
    case 'error': return 2;
    default: return 3;
  }
}

/** A gauge or counter whose samples are (labels, value) pairs computed at scrape time. */
function collected(kind: 'counter' | 'gauge', registry: Registry, name: string, help: string, labelNames: readonly string[],
  samples: () => Iterable<readonly [Labels, number]>): void {
  if (kind === 'counter') {
    new Counter({
      name, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const [labels, v] of samples()) this.inc(labels, v);
      },
    });
  } else {
    new Gauge({
      name, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const [labels, v] of samples()) this.set(labels, v);
      },
    });
  }
}

export function createPrometheusMetrics(opts: { defaultMetrics?: boolean } = {}): PrometheusMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'connect_dns_' });

  // Key: qtype (16 bits) · rcode (8 bits) · zone×transport slot (4 bits) = 28 bits, a small integer: no allocation.
  const queries = new Map<number, CountCell>();
  const rareQueries = new Map<string, CountCell>(); // extended rcodes past 255: never on our hot path
  const latency = ZONES.flatMap((zone) => (['udp', 'tcp'] as const).map((transport) => new HistogramCell({ zone, transport }, LATENCY_BUCKETS)));
  const refused = new Float64Array(ZONES.length * 2);
  const replyCache = { hit: 0, miss: 0 };
  const forwardCache = { hit: 0, miss: 0 };
  const dropped = new Map<string, Float64Array>(); // reason → [udp, tcp]
  const upstreams = new Map<string, UpstreamCell>();
  const catalog = { instances: 0, nodes: 0 };
  const stateWriteErrors = new Map<string, number>();
  const guarded = new Float64Array(GUARD_ACTIONS.length * 2); // action × [udp, tcp]
  const build = new HistogramCell({}, BUILD_BUCKETS);

  function newQueryCell(zone: QueryZone, qtype: number, rcode: number, proto: Transport): CountCell {
    return { labels: { zone, qtype: qtypeLabel(qtype), rcode: rcodeLabel(rcode), transport: proto }, n: 0 };
  }

  function upstreamCell(upstream: string): UpstreamCell {
    let cell = upstreams.get(upstream);
    if (cell) return cell;
    const label = upstreams.size < MAX_UPSTREAMS ? upstream : 'other';
    cell = upstreams.get(label) ?? { upstream: label, results: new Float64Array(UPSTREAM_RESULTS.length), up: 0, latency: new HistogramCell({ upstream: label }, LATENCY_BUCKETS) };
    upstreams.set(label, cell);
    return cell;
  }

  const slotLabels = (slot: number): Labels => ({ zone: ZONES[slot >> 1] ?? 'error', transport: slot & 1 ? 'tcp' : 'udp' });

  collected('counter', registry, 'connect_dns_queries_total', 'DNS replies sent, by zone, qtype, rcode and transport.',
    ['zone', 'qtype', 'rcode', 'transport'],
    function* () {
      for (const c of queries.values()) yield [c.labels, c.n];
      for (const c of rareQueries.values()) yield [c.labels, c.n];
    });
  new CellHistogram({ name: 'connect_dns_query_duration_seconds', help: 'Time from receiving a query to its reply.',
    labelNames: ['zone', 'transport'], buckets: LATENCY_BUCKETS, registry }, () => latency.filter((c) => c.count > 0));
  collected('counter', registry, 'connect_dns_refused_queries_total', 'Queries answered REFUSED (also counted in connect_dns_queries_total).',
    ['zone', 'transport'], function* () {
      for (let slot = 0; slot < refused.length; slot++) if ((refused[slot] as number) > 0) yield [slotLabels(slot), refused[slot] as number];
    });
  collected('counter', registry, 'connect_dns_reply_cache_lookups_total', 'In-zone encoded reply cache lookups, by result.',
    ['result'], () => [[{ result: 'hit' }, replyCache.hit], [{ result: 'miss' }, replyCache.miss]]);
  collected('counter', registry, 'connect_dns_forward_cache_lookups_total', 'Forward (upstream answer) cache lookups, by result.',
    ['result'], () => [[{ result: 'hit' }, forwardCache.hit], [{ result: 'miss' }, forwardCache.miss]]);
  collected('counter', registry, 'connect_dns_dropped_queries_total', 'Queries that got no reply at all, by reason.',
    ['reason', 'transport'], function* () {
      for (const [reason, n] of dropped) {
        if ((n[0] as number) > 0) yield [{ reason, transport: 'udp' }, n[0] as number];
        if ((n[1] as number) > 0) yield [{ reason, transport: 'tcp' }, n[1] as number];
      }
    });
  collected('counter', registry, 'connect_dns_upstream_exchanges_total', 'Exchanges with an upstream resolver, by result.',
    ['upstream', 'result'], function* () {
      for (const c of upstreams.values()) {
        for (let i = 0; i < UPSTREAM_RESULTS.length; i++) yield [{ upstream: c.upstream, result: UPSTREAM_RESULTS[i] as string }, c.results[i] as number];
      }
    });
  collected('gauge', registry, 'connect_dns_upstream_up', '1 while the forwarder asks this upstream, 0 while it is marked down or disabled.',
    ['upstream'], function* () {
      for (const c of upstreams.values()) yield [{ upstream: c.upstream }, c.up];
    });
  new CellHistogram({ name: 'connect_dns_upstream_reply_duration_seconds', help: 'Time for an upstream to reply (replies only).',
    labelNames: ['upstream'], buckets: LATENCY_BUCKETS, registry }, () => [...upstreams.values()].map((c) => c.latency));
  collected('counter', registry, 'connect_dns_guard_actions_total',
    'Replies the guard changed: refused for recursion_allow or RD=0, RD=0 served from cache, RFC 8482 ANY, rate-limited (dropped or slipped as TC).',
    ['action', 'transport'], function* () {
      for (let i = 0; i < guarded.length; i++) {
        if ((guarded[i] as number) > 0) yield [{ action: GUARD_ACTIONS[i >> 1] as string, transport: i & 1 ? 'tcp' : 'udp' }, guarded[i] as number];
      }
    });
  collected('gauge', registry, 'connect_dns_catalog_instances', 'Service instances in the current catalog snapshot.', [],
    () => [[{}, catalog.instances]]);
  collected('gauge', registry, 'connect_dns_catalog_nodes', 'Nodes in the current catalog snapshot.', [],
    () => [[{}, catalog.nodes]]);
  collected('counter', registry, 'connect_dns_state_write_errors_total', 'State file writes that failed (ENOSPC, EROFS, ...), by errno.',
    ['errno'], () => [...stateWriteErrors].map(([errno, n]) => [{ errno }, n]));
  new CellHistogram({ name: 'connect_dns_snapshot_build_duration_seconds', help: 'Time to build and publish a catalog snapshot.',
    labelNames: [], buckets: BUILD_BUCKETS, registry }, () => [build]);

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),

    query(zone: QueryZone, asked: number, rcode: number, proto: Transport, seconds: number, cache: CacheOutcome): void {
      const qtype = metricQtype(asked);
      const slot = (zoneIndex(zone) << 1) | (proto === 'tcp' ? 1 : 0);
      if (rcode >= 0 && rcode < 256 && qtype >= 0 && qtype < 65536) {
        const key = (((qtype << 8) | rcode) << 4) | slot;
        let cell = queries.get(key);
        if (cell === undefined) queries.set(key, (cell = newQueryCell(zone, qtype, rcode, proto)));
        cell.n++;
      } else {
        const key = `${zone}/${qtype}/${rcode}/${proto}`;
        let cell = rareQueries.get(key);
        if (cell === undefined) rareQueries.set(key, (cell = newQueryCell(zone, qtype, rcode, proto)));
        cell.n++;
      }
      (latency[slot] as HistogramCell).observe(seconds);
      if (rcode === Rcode.REFUSED) refused[slot] = (refused[slot] as number) + 1;
      if (cache === 'hit') replyCache.hit++;
      else if (cache === 'miss') replyCache.miss++;
    },

    dropped(reason: string, proto: Transport): void {
      let n = dropped.get(reason);
      if (n === undefined) {
        const label = dropped.size < MAX_REASONS ? reason : 'other';
        n = dropped.get(label) ?? new Float64Array(2);
        dropped.set(label, n);
      }
      const i = proto === 'tcp' ? 1 : 0;
      n[i] = (n[i] as number) + 1;
    },

    forwardCache(outcome: 'hit' | 'miss'): void {
      if (outcome === 'hit') forwardCache.hit++;
      else forwardCache.miss++;
    },

    upstream(upstream: string, result: UpstreamResult, seconds: number): void {
      const cell = upstreamCell(upstream);
      const i = upstreamResultIndex(result);
      cell.results[i] = (cell.results[i] as number) + 1;
      if (i === 0) cell.latency.observe(seconds);
    },

    stateWriteFailed(errno: string | undefined): void {
      const seen = errno ?? 'other';
      const label = stateWriteErrors.has(seen) || stateWriteErrors.size < MAX_REASONS ? seen : 'other';
      stateWriteErrors.set(label, (stateWriteErrors.get(label) ?? 0) + 1);
    },

    guard(action: GuardAction, proto: Transport): void {
      const i = (GUARD_ACTIONS.indexOf(action) << 1) | (proto === 'tcp' ? 1 : 0);
      if (i >= 0) guarded[i] = (guarded[i] as number) + 1;
    },
    upstreamHealth(upstream: string, up: boolean): void {
      upstreamCell(upstream).up = up ? 1 : 0;
    },

    catalog(instances: number, nodes: number, buildSeconds: number): void {
      catalog.instances = instances;
      catalog.nodes = nodes;
      build.observe(buildSeconds);
    },
  };
}
