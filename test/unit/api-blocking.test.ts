// Blocking queries (?index=&wait=) and X-Consul-Index: a read waits for a catalog change, and not longer.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Consul from 'consul';
import { httpJson, startApi, type ApiHarness, type HttpReply } from '../helpers/api-harness.js';

async function harness(t: TestContext): Promise<ApiHarness> {
  const h = await startApi();
  t.after(() => h.close());
  return h;
}

/** Resolves to the reply, or to 'pending' if none came within `ms`. */
async function within(p: Promise<HttpReply>, ms: number): Promise<HttpReply | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

const index = (r: HttpReply): number => Number(r.headers['x-consul-index']);

describe('blocking queries', () => {
  it('a blocking /v1/health/connect read returns when a registration changes the catalog, and not before', async (t) => {
    const h = await harness(t);
    const first = await httpJson(h.port, 'GET', '/v1/health/connect/redis');
    const n = index(first);
    assert.equal(n, h.registry.index);
    const blocked = httpJson(h.port, 'GET', `/v1/health/connect/redis?index=${n}&wait=5s`, undefined, {}, 8000);
    assert.equal(await within(blocked, 200), 'pending', 'no answer while nothing changed');
    const put = await httpJson(h.port, 'PUT', '/v1/agent/service/register',
      { Name: 'redis-proxy', ID: 'late-proxy', Kind: 'connect-proxy', ProxyDestination: 'redis', Port: 21500 });
    assert.equal(put.status, 200);
    const r = await within(blocked, 1000);
    assert.notEqual(r, 'pending', 'answered within a second of the change');
    if (r === 'pending') return;
    assert.ok(index(r) > n);
    assert.ok((r.json as { Service: { ID: string } }[]).some((e) => e.Service.ID === 'late-proxy'));
  });

  it('a TTL update (the cheap check path) also wakes a blocked read', async (t) => {
    const h = await harness(t);
    const n = h.registry.index;
    const blocked = httpJson(h.port, 'GET', `/v1/health/service/web?passing&index=${n}`, undefined, {}, 8000);
    assert.equal(await within(blocked, 200), 'pending');
    h.registry.updateCheck('ref-node', 'web-bad-ttl', { status: 'passing' });
    const r = await within(blocked, 1000);
    assert.notEqual(r, 'pending');
    if (r !== 'pending') assert.deepEqual((r.json as { Service: { ID: string } }[]).map((e) => e.Service.ID), ['web', 'web-bad']);
  });

  it('answers at once for an older or a future index, and after the wait when nothing changes', async (t) => {
    const h = await harness(t);
    await httpJson(h.port, 'PUT', '/v1/agent/maintenance?enable=true');
    const n = h.registry.index;
    assert.notEqual(await within(httpJson(h.port, 'GET', `/v1/catalog/services?index=${n - 1}&wait=10s`), 500), 'pending');
    assert.notEqual(await within(httpJson(h.port, 'GET', `/v1/catalog/services?index=${n + 100}&wait=10s`), 500), 'pending',
      'an index from before a restart resets instead of hanging');
    const timed = await within(httpJson(h.port, 'GET', `/v1/catalog/services?index=${n}&wait=100ms`), 2000);
    assert.notEqual(timed, 'pending');
    if (timed !== 'pending') assert.equal(index(timed), n);
    const bad = await httpJson(h.port, 'GET', `/v1/catalog/services?index=${n}&wait=soon`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^Invalid wait time/);
    assert.equal((await httpJson(h.port, 'GET', '/v1/catalog/services?index=-1')).status, 400);
  });

  it('the consul client follows changes with index; every write raises X-Consul-Index', async (t) => {
    const h = await harness(t);
    const consul = new Consul({ host: '127.0.0.1', port: h.port });
    t.after(() => consul.destroy());
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const put = await httpJson(h.port, 'PUT', '/v1/agent/service/register', { Name: 'web', ID: `web-${i}`, Port: 9000 + i });
      seen.push(index(put));
    }
    assert.ok(seen[0]! < seen[1]! && seen[1]! < seen[2]!, `increasing: ${seen.join(', ')}`);
    const pending = consul.health.service({ service: 'web', passing: true, index: String(h.registry.index), wait: '5s' } as never) as Promise<unknown>;
    const raced = await Promise.race([pending.then(() => 'answered'), sleep(200).then(() => 'pending')]);
    assert.equal(raced, 'pending');
    await httpJson(h.port, 'PUT', '/v1/agent/service/register', { Name: 'web', ID: 'web-9', Port: 9009 });
    const rows = await Promise.race([pending, sleep(1000).then(() => undefined)]) as { Service: { ID: string } }[] | undefined;
    assert.ok(rows, 'the client\'s blocking read returned after the change');
    assert.ok(rows.some((e) => e.Service.ID === 'web-9'));
  });

  it('close() answers blocked reads at once instead of holding the shutdown', async (t) => {
    const h = await startApi();
    t.after(() => h.close());
    const blocked = httpJson(h.port, 'GET', `/v1/health/service/web?index=${h.registry.index}&wait=5m`, undefined, {}, 8000);
    assert.equal(await within(blocked, 100), 'pending');
    const closed = h.close();
    const r = await within(blocked, 1000);
    assert.notEqual(r, 'pending');
    if (r !== 'pending') assert.equal(r.status, 200);
    assert.equal(await Promise.race([closed.then(() => 'closed'), sleep(1500).then(() => 'open')]), 'closed');
  });
});
