// Metrics seen by a scraper after real queries through the router (reference catalog) and the forwarder (a fake upstream).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry } from '../../src/catalog/registry.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { Forwarder } from '../../src/forward/forwarder.js';
import { createPrometheusMetrics, type PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { createQueryHandler } from '../../src/router.js';
import { toEncodeOptions, toResolveContext } from '../../src/server.js';
import { REFERENCE_DIR } from '../helpers/api-harness.js';
import { buildQuery } from '../helpers/dns-client.js';
import { fakes, forwarderFor, quietLogger } from '../helpers/forward-setup.js';
import { sample } from '../helpers/prom-sample.js';

const CLIENT = { address: '127.0.0.1', port: 40000 };

/** A router over the reference catalog; `forwarder` (when given) is its upstream path, with recursors on. */
async function routerWith(metrics: PrometheusMetrics, forwarder?: Forwarder) {
  const { config } = await loadConfig({ files: [], dirs: [REFERENCE_DIR] }, { client: '127.0.0.1', dnsPort: 0 }, { hostname: 'test-host' });
  const effective: Config = forwarder ? { ...config, recursors: [{ address: '127.0.0.1', port: 53 }] } : config;
  const registry = createRegistry(catalogFromConfig(effective));
  const context = toResolveContext(effective);
  const encode = toEncodeOptions(effective);
  const handler = createQueryHandler({
    snapshot: () => registry.current(), context: () => context, encode: () => encode, forwarder: () => forwarder,
    logger: quietLogger(), metrics,
  });
  const ask = async (name: string, type: string, proto: 'udp' | 'tcp' = 'udp'): Promise<Buffer | null> =>
    handler(buildQuery({ name, type, edns: { udpSize: 1232 } }), proto, CLIENT);
  return { handler, ask };
}


test('in-zone queries through the router show up by zone, qtype, rcode and transport, with cache hits', async () => {
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const { ask } = await routerWith(metrics);
  for (let i = 0; i < 5; i++) assert.ok(await ask('redis.connect.consul.', 'SRV'));
  await ask('redis.connect.consul.', 'SRV', 'tcp');
  await ask('nope.service.consul.', 'A');
  await ask('1.0.0.127.in-addr.arpa.', 'PTR');
  await ask('example.com.', 'A'); // no recursors: REFUSED
  const text = await metrics.render();
  const q = (zone: string, qtype: string, rcode: string, transport = 'udp') =>
    sample(text, 'connect_dns_queries_total', { zone, qtype, rcode, transport });
  assert.equal(q('domain', 'SRV', 'NOERROR'), 5);
  assert.equal(q('domain', 'SRV', 'NOERROR', 'tcp'), 1);
  assert.equal(q('domain', 'A', 'NXDOMAIN'), 1);
  assert.equal(q('arpa', 'PTR', 'NOERROR'), 1);
  assert.equal(q('refused', 'A', 'REFUSED'), 1);
  assert.equal(sample(text, 'connect_dns_refused_queries_total', { zone: 'refused', transport: 'udp' }), 1);
  assert.ok((sample(text, 'connect_dns_reply_cache_lookups_total', { result: 'hit' }) ?? 0) >= 3, 'repeated SRV queries hit the reply cache');
  assert.equal(sample(text, 'connect_dns_query_duration_seconds_count', { zone: 'domain', transport: 'udp' }), 6);
});

test('a query that gets no reply is counted as dropped, by reason', async () => {
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const { handler } = await routerWith(metrics);
  assert.equal(handler(buildQuery({ name: 'redis.connect.consul.', flags: { qr: true } }), 'udp', CLIENT), null);
  assert.equal(handler(Buffer.from([1, 2, 3]), 'udp', CLIENT), null);
  const text = await metrics.render();
  const series = text.split('\n').filter((l) => l.startsWith('connect_dns_dropped_queries_total{'));
  assert.equal(series.reduce((s, l) => s + Number(l.split(' ').pop()), 0), 2);
  assert.ok(series.every((l) => l.includes('transport="udp"')));
  assert.equal(sample(text, 'connect_dns_queries_total', { zone: 'domain', qtype: 'A', rcode: 'NOERROR', transport: 'udp' }), undefined,
    'a dropped query is not a reply');
});

test('forwarded queries: upstream replies and health, forward cache hits and misses, the forward zone', async (t) => {
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const [up] = await fakes(t, { behaviour: 'answer', answers: (name) => [`${name} 300 IN A 192.0.2.1`] });
  assert.ok(up);
  const upstream = `${up.address}#${up.port}`;
  const { ask } = await routerWith(metrics, forwarderFor(t, [up], { metrics, cache: { size: 100, maxTtl: 3600, negativeTtl: 300 } }));
  await ask('example.com.', 'A');
  await ask('example.com.', 'A');
  await ask('other.example.', 'A');
  const text = await metrics.render();
  assert.equal(sample(text, 'connect_dns_queries_total', { zone: 'forward', qtype: 'A', rcode: 'NOERROR', transport: 'udp' }), 3);
  assert.equal(sample(text, 'connect_dns_upstream_exchanges_total', { upstream, result: 'reply' }), 2);
  assert.equal(sample(text, 'connect_dns_upstream_up', { upstream }), 1);
  assert.equal(sample(text, 'connect_dns_forward_cache_lookups_total', { result: 'hit' }), 1);
  assert.equal(sample(text, 'connect_dns_forward_cache_lookups_total', { result: 'miss' }), 2);
});
