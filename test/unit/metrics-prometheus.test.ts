// The Prometheus metrics behind the DnsMetrics hooks: what a scrape shows after the hooks are called.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { Rcode, RrType } from '../../src/dns/records.js';
import { sample } from '../helpers/prom-sample.js';


const QUIET = { defaultMetrics: false } as const;

test('queries are counted by zone, qtype name, rcode name and transport; REFUSED also on its own counter', async () => {
  const m = createPrometheusMetrics(QUIET);
  for (let i = 0; i < 3; i++) m.query('domain', RrType.SRV, Rcode.NOERROR, 'udp', 0.00002, 'hit');
  m.query('domain', RrType.SRV, Rcode.NOERROR, 'tcp', 0.00002, 'miss');
  m.query('domain', RrType.A, Rcode.NXDOMAIN, 'udp', 0.00002, 'miss');
  m.query('refused', RrType.A, Rcode.REFUSED, 'udp', 0.00001, 'none');
  m.query('refused', RrType.A, Rcode.REFUSED, 'udp', 0.00001, 'none');
  m.query('forward', 65, Rcode.NOERROR, 'udp', 0.003, 'none');
  m.query('forward', 4321, Rcode.SERVFAIL, 'tcp', 0.003, 'none');
  const text = await m.render();
  const q = (zone: string, qtype: string, rcode: string, transport: string) => sample(text, 'connect_dns_queries_total', { zone, qtype, rcode, transport });
  assert.equal(q('domain', 'SRV', 'NOERROR', 'udp'), 3);
  assert.equal(q('domain', 'SRV', 'NOERROR', 'tcp'), 1);
  assert.equal(q('domain', 'A', 'NXDOMAIN', 'udp'), 1);
  assert.equal(q('refused', 'A', 'REFUSED', 'udp'), 2);
  assert.equal(q('forward', 'HTTPS', 'NOERROR', 'udp'), 1);
  assert.equal(q('forward', 'other', 'SERVFAIL', 'tcp'), 1, 'a qtype without a name is labelled "other"');
  // Hostile clients may ask every qtype: they share one series instead of making 65,536.
  for (let t = 1000; t < 3000; t++) m.query('forward', t, Rcode.SERVFAIL, 'tcp', 0.003, 'none');
  const many = await m.render();
  assert.equal(sample(many, 'connect_dns_queries_total', { zone: 'forward', qtype: 'other', rcode: 'SERVFAIL', transport: 'tcp' }), 2001);
  assert.equal(many.split('\n').filter((l) => l.startsWith('connect_dns_queries_total{')).length, 6);
  assert.equal(sample(text, 'connect_dns_refused_queries_total', { zone: 'refused', transport: 'udp' }), 2);
  assert.equal(sample(text, 'connect_dns_reply_cache_lookups_total', { result: 'hit' }), 3);
  assert.equal(sample(text, 'connect_dns_reply_cache_lookups_total', { result: 'miss' }), 2);
  // Extended rcodes take the slow path but are still counted.
  m.query('error', RrType.A, 4000, 'udp', 0, 'none');
  assert.equal(sample(await m.render(), 'connect_dns_queries_total', { zone: 'error', qtype: 'A', rcode: '4000', transport: 'udp' }), 1);
});

test('the latency histogram is cumulative over 10 µs – 1 s buckets, per zone and transport', async () => {
  const m = createPrometheusMetrics(QUIET);
  m.query('domain', RrType.A, Rcode.NOERROR, 'udp', 0.000005, 'miss'); // under the first bucket
  m.query('domain', RrType.A, Rcode.NOERROR, 'udp', 0.00003, 'hit');
  m.query('domain', RrType.A, Rcode.NOERROR, 'udp', 0.0002, 'hit');
  m.query('domain', RrType.A, Rcode.NOERROR, 'udp', 3, 'hit'); // past the last bucket
  const text = await m.render();
  const b = (le: string) => sample(text, 'connect_dns_query_duration_seconds_bucket', { zone: 'domain', transport: 'udp', le });
  assert.equal(b('0.00001'), 1);
  assert.equal(b('0.00005'), 2);
  assert.equal(b('0.00025'), 3);
  assert.equal(b('1'), 3);
  assert.equal(b('+Inf'), 4);
  assert.equal(sample(text, 'connect_dns_query_duration_seconds_count', { zone: 'domain', transport: 'udp' }), 4);
  const sum = sample(text, 'connect_dns_query_duration_seconds_sum', { zone: 'domain', transport: 'udp' }) ?? 0;
  assert.ok(Math.abs(sum - 3.000235) < 1e-9, `sum ${sum}`);
  assert.equal(sample(text, 'connect_dns_query_duration_seconds_count', { zone: 'forward', transport: 'udp' }), undefined,
    'a zone with no queries has no series yet');
});

test('forward cache hits and misses start at 0 and count', async () => {
  const m = createPrometheusMetrics(QUIET);
  assert.equal(sample(await m.render(), 'connect_dns_forward_cache_lookups_total', { result: 'hit' }), 0);
  m.forwardCache('miss');
  m.forwardCache('hit');
  m.forwardCache('hit');
  const text = await m.render();
  assert.equal(sample(text, 'connect_dns_forward_cache_lookups_total', { result: 'hit' }), 2);
  assert.equal(sample(text, 'connect_dns_forward_cache_lookups_total', { result: 'miss' }), 1);
});

test('upstream exchanges by result; the up gauge follows the forwarder\'s health marks', async () => {
  const m = createPrometheusMetrics(QUIET);
  const a = '127.0.0.1:5301';
  const b = '[::1]:5302';
  m.upstreamHealth(a, true);
  m.upstreamHealth(b, true);
  m.upstream(a, 'reply', 0.001);
  m.upstream(a, 'reply', 0.002);
  m.upstream(b, 'timeout', 2);
  m.upstream(b, 'error', 0);
  let text = await m.render();
  const ex = (upstream: string, result: string) => sample(text, 'connect_dns_upstream_exchanges_total', { upstream, result });
  assert.equal(ex(a, 'reply'), 2);
  assert.equal(ex(a, 'timeout'), 0);
  assert.equal(ex(b, 'timeout'), 1);
  assert.equal(ex(b, 'error'), 1);
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: a }), 1);
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: b }), 1, 'one failed exchange does not mark an upstream down');
  assert.equal(sample(text, 'connect_dns_upstream_reply_duration_seconds_count', { upstream: a }), 2);
  m.upstream(a, 'rejected', 0.001);
  m.upstreamHealth(b, false);
  text = await m.render();
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: a }), 1);
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: b }), 0, 'marked down');
  assert.equal(ex(a, 'rejected'), 1);
  m.upstreamHealth(b, true);
  text = await m.render();
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: b }), 1, 'marked up again');
});

test('catalog size is the last snapshot published; build times are a histogram', async () => {
  const m = createPrometheusMetrics(QUIET);
  m.catalog(100_000, 1_000, 4.2);
  m.catalog(100_001, 1_000, 0.00005);
  const text = await m.render();
  assert.equal(sample(text, 'connect_dns_catalog_instances'), 100_001);
  assert.equal(sample(text, 'connect_dns_catalog_nodes'), 1_000);
  assert.equal(sample(text, 'connect_dns_snapshot_build_duration_seconds_count'), 2);
  assert.equal(sample(text, 'connect_dns_snapshot_build_duration_seconds_bucket', { le: '0.0001' }), 1);
  assert.equal(sample(text, 'connect_dns_snapshot_build_duration_seconds_bucket', { le: '5' }), 2);
});

test('dropped queries by reason and transport; distinct reasons are capped so a bug cannot explode the series', async () => {
  const m = createPrometheusMetrics(QUIET);
  m.dropped('QR=1 (a response)', 'udp');
  m.dropped('QR=1 (a response)', 'udp');
  m.dropped('source port 0', 'tcp');
  for (let i = 0; i < 100; i++) m.dropped(`odd reason ${i}`, 'udp');
  const text = await m.render();
  assert.equal(sample(text, 'connect_dns_dropped_queries_total', { reason: 'QR=1 (a response)', transport: 'udp' }), 2);
  assert.equal(sample(text, 'connect_dns_dropped_queries_total', { reason: 'source port 0', transport: 'tcp' }), 1);
  const series = text.split('\n').filter((l) => l.startsWith('connect_dns_dropped_queries_total{'));
  assert.ok(series.length <= 33, `${series.length} series`);
  const total = series.reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  assert.equal(total, 103, 'nothing is lost when reasons are folded into "other"');
  assert.ok((sample(text, 'connect_dns_dropped_queries_total', { reason: 'other', transport: 'udp' }) ?? 0) > 0);
});

test('default process metrics carry the connect_dns_ prefix; instances do not share series', async () => {
  const a = createPrometheusMetrics();
  const b = createPrometheusMetrics();
  a.query('domain', RrType.A, Rcode.NOERROR, 'udp', 0.0001, 'miss');
  const text = await a.render();
  assert.ok(sample(text, 'connect_dns_process_resident_memory_bytes') !== undefined);
  assert.match(text, /^# TYPE connect_dns_nodejs_eventloop_lag_seconds gauge$/m);
  assert.equal(sample(await b.render(), 'connect_dns_queries_total', { zone: 'domain', qtype: 'A', rcode: 'NOERROR', transport: 'udp' }), undefined);
  assert.equal(a.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(a.contentType, a.registry.contentType);
});
