// GET /metrics on the HTTP API: Prometheus text with prom-client's Content-Type, no token, no blocking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rcode, RrType } from '../../src/dns/records.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { httpJson, startApi } from '../helpers/api-harness.js';

test('GET /metrics serves the hooks\' counts as Prometheus text', async (t) => {
  const metrics = createPrometheusMetrics();
  metrics.query('domain', RrType.SRV, Rcode.NOERROR, 'udp', 0.00004, 'hit');
  metrics.catalog(7, 1, 0.001);
  const api = await startApi({ deps: { metrics } });
  t.after(() => api.close());
  const r = await httpJson(api.port, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], metrics.registry.contentType);
  assert.match(r.text, /^connect_dns_queries_total\{zone="domain",qtype="SRV",rcode="NOERROR",transport="udp"\} 1$/m);
  assert.match(r.text, /^connect_dns_catalog_instances 7$/m);
  assert.match(r.text, /^# TYPE connect_dns_process_cpu_seconds_total counter$/m);
  // Counts move between scrapes.
  metrics.query('domain', RrType.SRV, Rcode.NOERROR, 'udp', 0.00004, 'hit');
  const again = await httpJson(api.port, 'GET', '/metrics');
  assert.match(again.text, /^connect_dns_queries_total\{zone="domain",qtype="SRV",rcode="NOERROR",transport="udp"\} 2$/m);
});

test('/metrics needs no token when the API is locked, and ignores ?index= (never a blocking query)', async (t) => {
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const api = await startApi({ deps: { metrics }, patch: (c) => ({ ...c, apiToken: 'sekret' }) });
  t.after(() => api.close());
  const locked = await httpJson(api.port, 'PUT', '/v1/agent/service/register', { Name: 'x', Port: 1 });
  assert.equal(locked.status, 403, 'the API is locked for writes');
  // A blocking read would hold this for 10 minutes; the request's own timeout is 5 s.
  const r = await httpJson(api.port, 'GET', `/metrics?index=${api.registry.index + 1000}&wait=10m`);
  assert.equal(r.status, 200);
  assert.match(r.text, /^connect_dns_forward_cache_lookups_total\{result="hit"\} 0$/m);
});

test('HEAD /metrics answers headers only; other methods get 405 with Allow', async (t) => {
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const api = await startApi({ deps: { metrics } });
  t.after(() => api.close());
  const head = await httpJson(api.port, 'HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers['content-type'], metrics.contentType);
  const post = await httpJson(api.port, 'POST', '/metrics', {});
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('without metrics wired, /metrics is 404 and the rest of the API is unaffected', async (t) => {
  const api = await startApi();
  t.after(() => api.close());
  const r = await httpJson(api.port, 'GET', '/metrics');
  assert.equal(r.status, 404);
  const leader = await httpJson(api.port, 'GET', '/v1/status/leader');
  assert.equal(leader.status, 200);
});

test('a failing render is a 500, not a hung request', async (t) => {
  const api = await startApi({ deps: { metrics: { contentType: 'text/plain', render: () => Promise.reject(new Error('collector broke')) } } });
  t.after(() => api.close());
  const r = await httpJson(api.port, 'GET', '/metrics');
  assert.equal(r.status, 500);
});
