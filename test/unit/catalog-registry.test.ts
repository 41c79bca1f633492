// The live registry: publishes, incremental check updates equal a full rebuild, origins, reload, waits, state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry } from '../../src/catalog/registry.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput, Check, ServiceInstance, Snapshot } from '../../src/catalog/types.js';
import { richCatalog } from '../helpers/rich-catalog.js';

const svc = (id: string, name: string, extra: Partial<ServiceInstance> = {}): ServiceInstance => ({
  id, service: name, node: 'n1', kind: 'typical', tags: [], address: '', port: 80, meta: {},
  weights: { passing: 1, warning: 1 }, connectNative: false, ...extra,
});
const check = (id: string, serviceId: string, status: Check['status'] = 'passing', type: Check['type'] = 'ttl'): Check => ({
  id, name: id, node: 'n1', serviceId, serviceName: serviceId, status, notes: '', output: '', type, definition: { ttl: 30_000 },
});
const base = (): CatalogInput => ({
  datacenter: 'dc1',
  localNode: { name: 'n1', address: '10.0.0.1', datacenter: 'dc1', meta: {} },
  nodes: [],
  services: [svc('web1', 'web', { tags: ['a'] }), svc('web2', 'web')],
  checks: [check('c1', 'web1'), check('c2', 'web2')],
});

/** Everything a lookup can see, in a comparable form. */
function view(s: Snapshot, names: string[]): unknown {
  return names.map((n) => s.serviceInstances(n).map((v) => [v.instance.id, v.status, v.checks.map((c) => c.status)]))
    .concat([s.instances().map((v) => [v.instance.id, v.status]), s.checks().map((c) => [c.id, c.status])]);
}

describe('registry', () => {
  it('a check update patches the snapshot to exactly what a full rebuild gives', () => {
    const input = richCatalog();
    const reg = createRegistry(input);
    const names = [...new Set(input.services.map((s) => s.service))];
    let current = input;
    for (const c of input.checks.slice(0, 6)) {
      const status = c.status === 'critical' ? 'passing' : 'critical';
      assert.ok(reg.updateCheck(c.node, c.id, { status }));
      current = { ...current, checks: current.checks.map((x) => (x.id === c.id && x.node === c.node ? { ...x, status } : x)) };
      assert.deepEqual(view(reg.current(), names), view(createSnapshot(current, 0), names));
      for (const n of names) {
        assert.deepEqual(reg.current().connectEndpoints(n).map((v) => [v.instance.id, v.status]),
          createSnapshot(current, 0).connectEndpoints(n).map((v) => [v.instance.id, v.status]));
      }
    }
  });

  it('every change raises the index, and a no-op update does not', () => {
    const reg = createRegistry(base());
    const i0 = reg.index;
    reg.updateCheck('n1', 'c1', { status: 'critical' });
    assert.equal(reg.index, i0 + 1);
    reg.updateCheck('n1', 'c1', { status: 'critical' });
    assert.equal(reg.index, i0 + 1);
    assert.equal(reg.updateCheck('n1', 'nope', { status: 'passing' }), false);
    assert.equal(reg.current().serviceInstances('web').find((v) => v.instance.id === 'web1')?.status, 'critical');
    reg.registerService(svc('api1', 'api'), [], 'api');
    assert.equal(reg.index, i0 + 2);
    assert.equal(reg.current().version, reg.index);
  });

  it('waitForChange resolves on the next change, not before, and after the timeout otherwise', async () => {
    const reg = createRegistry(base());
    const since = reg.index;
    let resolved = false;
    const waiting = reg.waitForChange(since, 5000).then((i) => { resolved = true; return i; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(resolved, false);
    reg.registerService(svc('api1', 'api'), [], 'api');
    assert.equal(await waiting, since + 1);
    assert.equal(await reg.waitForChange(reg.index, 10), reg.index);
    const ac = new AbortController();
    const aborted = reg.waitForChange(reg.index, 5000, ac.signal);
    ac.abort();
    assert.equal(await aborted, reg.index);
  });

  it('deregistering a service removes its checks and the managed proxies that target it', () => {
    const reg = createRegistry({
      ...base(),
      services: [svc('redis', 'redis'), svc('redis-proxy', 'redis-proxy', {
        kind: 'connect-proxy', proxy: { destinationServiceName: 'redis', config: {}, upstreams: [] },
        managed: { type: 'managed', targetServiceId: 'redis' },
      })],
      checks: [check('service:redis-proxy', 'redis-proxy', 'passing', 'tcp')],
    });
    assert.equal(reg.current().connectEndpoints('redis').length, 1);
    assert.ok(reg.deregisterService('n1', 'redis'));
    assert.equal(reg.current().connectEndpoints('redis').length, 0);
    assert.equal(reg.current().checks().length, 0);
    assert.equal(reg.deregisterService('n1', 'redis'), false);
  });

  it('replaceConfig swaps config entries, keeps API entries and the state of unchanged checks', () => {
    const reg = createRegistry(base());
    reg.registerService(svc('api1', 'api'), [check('api-check', 'api1')], 'api');
    reg.updateCheck('n1', 'c2', { status: 'critical', output: 'expired' });
    reg.replaceConfig({ ...base(), services: [svc('web2', 'web')], checks: [check('c2', 'web2')] });
    const s = reg.current();
    assert.deepEqual(s.serviceInstances('web').map((v) => v.instance.id), ['web2']);
    assert.equal(s.serviceInstances('web')[0]?.status, 'critical', 'unchanged check kept its state');
    assert.deepEqual(s.serviceInstances('api').map((v) => v.instance.id), ['api1']);
    assert.equal(reg.originOf('service', 'n1', 'api1'), 'api');
    assert.equal(reg.originOf('service', 'n1', 'web2'), 'config');
  });

  it('exports API entries and TTL states, and restores them', () => {
    const reg = createRegistry(base());
    reg.registerService(svc('api1', 'api'), [check('api-check', 'api1')], 'api');
    reg.updateCheck('n1', 'c1', { status: 'warning', output: 'slow' });
    const state = JSON.parse(JSON.stringify(reg.exportState())) as ReturnType<typeof reg.exportState>;
    assert.deepEqual(state.services.map((s) => s.id), ['api1']);
    const fresh = createRegistry(base());
    fresh.restoreState(state);
    assert.deepEqual(fresh.current().serviceInstances('api').map((v) => v.instance.id), ['api1']);
    assert.equal(fresh.current().serviceInstances('web').find((v) => v.instance.id === 'web1')?.status, 'warning');
  });

  it('a listener that throws does not stop the publish', () => {
    const reg = createRegistry(base());
    let seen = 0;
    reg.subscribe(() => { throw new Error('boom'); });
    reg.subscribe(() => { seen += 1; });
    reg.registerService(svc('api1', 'api'), [], 'api');
    assert.equal(seen, 1);
  });
});

describe('registry: output-only check changes', () => {
  it('are visible to the next read but neither raise the index nor wake watchers', async () => {
    const reg = createRegistry(base());
    const since = reg.index;
    let woke = false;
    const waiting = reg.waitForChange(since, 150).then(() => { woke = reg.index > since; });
    assert.ok(reg.updateCheck('n1', 'c1', { status: 'passing', output: 'HTTP GET /: 200 OK Output: t=1' }));
    await waiting;
    assert.equal(woke, false);
    assert.equal(reg.index, since);
    assert.equal(reg.current().checks().find((c) => c.id === 'c1')?.output, 'HTTP GET /: 200 OK Output: t=1');
    reg.updateCheck('n1', 'c1', { status: 'critical', output: 'HTTP GET /: 500' });
    assert.equal(reg.index, since + 1, 'a status change still does');
  });
});

describe('registry: mirrors', () => {
  it('replaying the ops of one registry on another built from the same config gives the same catalog', () => {
    const primary = createRegistry(base());
    const mirror = createRegistry(base());
    primary.subscribeOps((op) => mirror.apply(JSON.parse(JSON.stringify(op)) as typeof op));
    primary.registerService(svc('api1', 'api', { tags: ['x'] }), [check('api-check', 'api1')], 'api');
    primary.updateCheck('n1', 'api-check', { status: 'critical', output: 'boom' });
    primary.updateCheck('n1', 'api-check', { status: 'critical', output: 'boom again' });
    primary.registerNode({ name: 'n2', address: '10.0.0.2', datacenter: 'dc1', meta: {} }, 'api');
    primary.registerService({ ...svc('web9', 'web'), node: 'n2' }, [], 'api');
    primary.deregisterService('n1', 'web1');
    assert.equal(primary.deregisterService('n1', 'web1'), false);
    primary.replaceConfig({ ...base(), services: [svc('web2', 'web')], checks: [] });
    const names = ['web', 'api'];
    assert.deepEqual(view(mirror.current(), names), view(primary.current(), names));
    assert.equal(mirror.current().checks().find((c) => c.id === 'api-check')?.output, 'boom again');
    assert.deepEqual(mirror.exportState(), primary.exportState());
  });
});
