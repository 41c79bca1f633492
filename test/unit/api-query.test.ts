// Prepared queries through the API: create, list, read, update, delete, execute; config-declared ones are read-only.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Consul from 'consul';
import type { PreparedQuery } from '../../src/catalog/types.js';
import { httpJson, startApi, type ApiHarness } from '../helpers/api-harness.js';

async function harness(t: TestContext, opts: Parameters<typeof startApi>[0] = {}): Promise<ApiHarness> {
  const h = await startApi(opts);
  t.after(() => h.close());
  return h;
}

type QueryJson = { ID: string; Name: string; Service: { Service: string; OnlyPassing: boolean; Connect: boolean; Tags: string[] }; DNS: { TTL: string }; ModifyIndex: number };

describe('prepared query API', () => {
  it('create, list, get, update and delete with the consul client; the registry holds it as an API entry', async (t) => {
    const h = await harness(t);
    const consul = new Consul({ host: '127.0.0.1', port: h.port });
    t.after(() => consul.destroy());
    const created = await consul.query.create({ name: 'redis-mesh', service: { service: 'redis', onlypassing: true }, dns: { ttl: '10s' } }) as { ID: string };
    assert.match(created.ID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(h.registry.originOf('query', '', created.ID), 'api');
    const list = await consul.query.list() as QueryJson[];
    assert.deepEqual(list.map((q) => [q.ID, q.Name, q.Service.Service, q.Service.OnlyPassing, q.DNS.TTL]),
      [[created.ID, 'redis-mesh', 'redis', true, '10s']]);
    const got = await consul.query.get(created.ID) as QueryJson;
    assert.equal(got.Name, 'redis-mesh');
    const before = got.ModifyIndex;
    await consul.query.update({ query: created.ID, name: 'redis-mesh', service: { service: 'redis', tags: ['v2'] }, dns: { ttl: '90s' } } as never);
    const updated = (await httpJson(h.port, 'GET', `/v1/query/${created.ID}`)).json as QueryJson[];
    assert.deepEqual([updated[0]?.Service.Tags, updated[0]?.DNS.TTL], [['v2'], '1m30s']);
    assert.ok((updated[0]?.ModifyIndex ?? 0) > before);
    // Present at runtime (lib/query.js), missing from the bundled types.
    await (consul.query as unknown as { destroy(id: string): Promise<void> }).destroy(created.ID);
    assert.deepEqual((await httpJson(h.port, 'GET', '/v1/query')).json, []);
    assert.equal((await httpJson(h.port, 'GET', `/v1/query/${created.ID}`)).status, 404);
    assert.equal((await httpJson(h.port, 'DELETE', `/v1/query/${created.ID}`)).status, 404);
  });

  it('execute by ID or name returns Consul\'s PreparedQueryExecuteResponse, with the caller\'s IP as source', async (t) => {
    const seen: (string | undefined)[] = [];
    const h = await harness(t, {
      deps: {
        executeQuery: (snap, q, source) => {
          seen.push(source.ip);
          return { datacenter: snap.datacenter, nodes: q.service.connect ? snap.connectEndpoints(q.service.service) : [], ttl: 10 };
        },
      },
    });
    const created = await httpJson(h.port, 'POST', '/v1/query', { Name: 'redis-mesh', Service: { Service: 'redis', Connect: true }, DNS: { TTL: '10s' } });
    const id = (created.json as { ID: string }).ID;
    for (const key of [id, 'redis-mesh', 'REDIS-MESH']) {
      const r = await httpJson(h.port, 'GET', `/v1/query/${key}/execute`);
      assert.equal(r.status, 200, key);
      const body = r.json as { Service: string; Nodes: { Service: { ID: string } }[]; DNS: { TTL: string }; Datacenter: string; Failovers: number };
      assert.deepEqual([body.Service, body.Nodes.map((n) => n.Service.ID).sort(), body.DNS, body.Datacenter, body.Failovers],
        ['redis', ['redis-proxy', 'redis-proxy-ext'], { TTL: '10s' }, 'dc1', 0]);
    }
    assert.deepEqual(seen, ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    const limited = (await httpJson(h.port, 'GET', `/v1/query/${id}/execute?limit=1`)).json as { Nodes: unknown[] };
    assert.equal(limited.Nodes.length, 1);
    assert.equal((await httpJson(h.port, 'GET', '/v1/query/nope/execute')).status, 404);
  });

  it('names are unique, a service is required, and a config-declared query cannot be changed or deleted', async (t) => {
    const h = await harness(t);
    const body = { Name: 'q1', Service: { Service: 'web' } };
    assert.equal((await httpJson(h.port, 'POST', '/v1/query', body)).status, 200);
    const dup = await httpJson(h.port, 'POST', '/v1/query', { ...body, Name: 'Q1' });
    assert.equal(dup.status, 409);
    assert.match(dup.text, /^Name: a prepared query named "Q1" already exists/);
    const noService = await httpJson(h.port, 'POST', '/v1/query', { Name: 'q2', Service: {} });
    assert.equal(noService.status, 400);
    assert.match(noService.text, /^Service\.Service: a prepared query needs Service\.Service/);
    const badType = await httpJson(h.port, 'POST', '/v1/query', { Name: 'q2', Service: { Service: 'web', OnlyPassing: 'yes' } });
    assert.equal(badType.status, 400);
    assert.match(badType.text, /^Service\.OnlyPassing: expected a boolean/);
    const fromConfig: PreparedQuery = {
      id: 'cfg-1', name: 'from-file', service: {
        service: 'web', tags: [], onlyPassing: false, near: '', connect: false, ignoreCheckIds: [], nodeMeta: {}, serviceMeta: {},
        failover: { nearestN: 0, datacenters: [] },
      }, dns: {}, createIndex: 1, modifyIndex: 1,
    };
    h.registry.setPreparedQuery(fromConfig, 'config');
    const put = await httpJson(h.port, 'PUT', '/v1/query/cfg-1', { Name: 'from-file', Service: { Service: 'db' } });
    assert.equal(put.status, 400);
    assert.match(put.text, /declared in a config file/);
    assert.equal((await httpJson(h.port, 'DELETE', '/v1/query/cfg-1')).status, 400);
    assert.equal(h.registry.current().preparedQuery('cfg-1')?.service.service, 'web', 'unchanged');
  });
});
