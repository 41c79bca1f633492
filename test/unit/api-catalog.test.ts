// The catalog and health endpoints: other nodes registered through /v1/catalog/register, and every read.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Consul from 'consul';
import { curl, httpJson, startApi, type ApiHarness } from '../helpers/api-harness.js';

async function harness(t: TestContext): Promise<ApiHarness> {
  const h = await startApi();
  t.after(() => h.close());
  return h;
}

type CatalogRow = { Node: string; ServiceID: string; ServicePort: number; ServiceKind: string; ServiceProxyDestination: string };
type HealthRow = { Node: { Node: string }; Service: { ID: string }; Checks: { CheckID: string; Status: string }[] };

const registration = {
  Node: 'node2', Address: '10.0.0.2', NodeMeta: { rack: 'r1' },
  Service: { ID: 'redis-proxy-n2', Service: 'redis-proxy', Kind: 'connect-proxy', ProxyDestination: 'redis', Port: 21000, Tags: ['blue'] },
  Checks: [
    { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' },
    { CheckID: 'proxy-alive', Name: 'proxy alive', Status: 'passing', ServiceID: 'redis-proxy-n2' },
  ],
};

describe('catalog register and deregister', () => {
  it('registers another node with a proxy and checks; /v1/catalog/connect and /v1/health/connect list it', async (t) => {
    const h = await harness(t);
    const r = await curl(h.port, '/v1/catalog/register', ['-X', 'PUT', '--data-binary', JSON.stringify(registration)]);
    assert.deepEqual([r.status, r.body], [200, 'true']);
    const rows = (await httpJson(h.port, 'GET', '/v1/catalog/connect/redis')).json as CatalogRow[];
    const mine = rows.find((row) => row.ServiceID === 'redis-proxy-n2');
    assert.deepEqual(mine && [mine.Node, mine.ServicePort, mine.ServiceKind, mine.ServiceProxyDestination], ['node2', 21000, 'connect-proxy', 'redis']);
    const healthy = (await httpJson(h.port, 'GET', '/v1/health/connect/redis?passing&tag=blue')).json as HealthRow[];
    assert.deepEqual(healthy.map((e) => [e.Node.Node, e.Service.ID, e.Checks.map((c) => c.CheckID)]),
      [['node2', 'redis-proxy-n2', ['serfHealth', 'proxy-alive']]]);
    const nodes = (await httpJson(h.port, 'GET', '/v1/catalog/nodes')).json as { Node: string; Address: string; Meta: Record<string, string> }[];
    assert.deepEqual(nodes.map((n) => [n.Node, n.Address, n.Meta]), [['ref-node', '127.0.0.1', {}], ['node2', '10.0.0.2', { rack: 'r1' }]]);
    const node = (await httpJson(h.port, 'GET', '/v1/catalog/node/node2')).json as { Node: { Node: string }; Services: Record<string, { Port: number }> };
    assert.deepEqual([node.Node.Node, Object.keys(node.Services), node.Services['redis-proxy-n2']?.Port], ['node2', ['redis-proxy-n2'], 21000]);
    assert.equal((await httpJson(h.port, 'GET', '/v1/catalog/node/ghost')).text, 'null');
    assert.equal(h.registry.originOf('node', '', 'node2'), 'api');
  });

  it('deregisters a check, a service, then the node; unknown IDs are 404; the own node is refused', async (t) => {
    const h = await harness(t);
    const consul = new Consul({ host: '127.0.0.1', port: h.port });
    t.after(() => consul.destroy());
    assert.equal((await httpJson(h.port, 'PUT', '/v1/catalog/register', registration)).status, 200);
    await consul.catalog.deregister({ node: 'node2', checkid: 'proxy-alive' } as never);
    assert.equal(h.registry.current().checks().some((c) => c.id === 'proxy-alive'), false);
    const ghost = await httpJson(h.port, 'PUT', '/v1/catalog/deregister', { Node: 'node2', ServiceID: 'ghost' });
    assert.equal(ghost.status, 404);
    assert.match(ghost.text, /Unknown service ID "ghost"/);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/catalog/deregister', { Node: 'node2', ServiceID: 'redis-proxy-n2' })).status, 200);
    assert.equal(h.registry.current().connectEndpoints('redis').some((v) => v.node.name === 'node2'), false);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/catalog/deregister', { Node: 'node2' })).status, 200);
    assert.equal(h.registry.current().node('node2'), undefined);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/catalog/deregister', { Node: 'node2' })).status, 404);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/catalog/deregister', { Node: 'ref-node' })).status, 400);
    const own = await httpJson(h.port, 'PUT', '/v1/catalog/register', { Node: 'ref-node', Address: '127.0.0.1' });
    assert.equal(own.status, 400);
    assert.match(own.text, /^Node: "ref-node" is this agent's own node/);
  });

  it('refuses a registration without Node or Address, a bad status, and a check on an unknown service', async (t) => {
    const h = await harness(t);
    const cases: [unknown, RegExp][] = [
      [{ Address: '10.0.0.3' }, /^Node: missing$/],
      [{ Node: 'n3' }, /^Address: missing$/],
      [{ Node: 'n3', Address: 'not an address!' }, /^Address: must be an IP address or a host name/],
      [{ Node: 'n3', Address: '10.0.0.3', Check: { CheckID: 'c', Status: 'great' } }, /^Check: *Status: must be one of passing, warning, critical|Check\.Status: must be one of/],
      [{ Node: 'n3', Address: '10.0.0.3', Check: { CheckID: 'c', ServiceID: 'nope' } }, /no service with ID "nope" on node "n3"/],
      [{ Node: 'n3', Address: '10.0.0.3', Service: { Port: 80 } }, /a service needs a name/],
    ];
    for (const [body, reason] of cases) {
      const r = await httpJson(h.port, 'PUT', '/v1/catalog/register', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.text, reason);
    }
    assert.equal(h.registry.current().node('n3'), undefined, 'a refused registration leaves nothing behind');
  });
});

describe('catalog and health reads', () => {
  it('/v1/catalog/services and /v1/catalog/service/:name?tag= (via the consul client)', async (t) => {
    const h = await harness(t);
    const consul = new Consul({ host: '127.0.0.1', port: h.port });
    t.after(() => consul.destroy());
    const services = await consul.catalog.service.list() as Record<string, string[]>;
    assert.deepEqual(services, { db: [], redis: [], 'redis-proxy': [], web: ['primary', 'v1', 'secondary'] });
    const web = await consul.catalog.service.nodes({ service: 'web', tag: 'secondary' }) as CatalogRow[];
    assert.deepEqual(web.map((r) => r.ServiceID), ['web-bad']);
    const pretty = await httpJson(h.port, 'GET', '/v1/catalog/services?pretty');
    assert.match(pretty.text, /^\{\n {4}"db": \[\],\n/, '?pretty indents by 4 like Consul');
    assert.equal((await httpJson(h.port, 'GET', '/v1/catalog/services')).text.includes('\n'), false);
    const connect = await consul.catalog.connect.nodes('db') as (CatalogRow & { ServiceConnect: unknown })[];
    assert.deepEqual(connect.map((r) => [r.ServiceID, r.ServiceConnect]), [['db', { Native: true, Proxy: null }]]);
  });

  it('/v1/health/service matches the 1.2.4 capture shape and ?passing drops an instance with a critical check', async (t) => {
    const h = await harness(t);
    const all = (await httpJson(h.port, 'GET', '/v1/health/service/web')).json as HealthRow[];
    assert.deepEqual(all.map((e) => e.Service.ID), ['web', 'web-bad']);
    const bad = all[1] as unknown as { Service: Record<string, unknown>; Checks: Record<string, unknown>[] };
    assert.deepEqual(bad.Service, {
      ID: 'web-bad', Service: 'web', Tags: ['secondary', 'v1'], Address: '', Meta: null, Port: 8081,
      Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, ProxyDestination: '',
      Connect: { Native: false, Proxy: null }, CreateIndex: h.registry.index, ModifyIndex: h.registry.index,
    });
    assert.deepEqual(bad.Checks.map((c) => [c['CheckID'], c['Status'], c['ServiceTags']]), [['web-bad-ttl', 'critical', ['secondary', 'v1']]]);
    const passing = (await httpJson(h.port, 'GET', '/v1/health/service/web?passing')).json as HealthRow[];
    assert.deepEqual(passing.map((e) => e.Service.ID), ['web']);
    const tagged = (await httpJson(h.port, 'GET', '/v1/health/service/web?tag=PRIMARY')).json as HealthRow[];
    assert.deepEqual(tagged.map((e) => e.Service.ID), ['web'], 'tags match case-insensitively');
  });

  it('/v1/health/checks/:service, /node/:node and /state/:state', async (t) => {
    const h = await harness(t);
    const byService = (await httpJson(h.port, 'GET', '/v1/health/checks/web')).json as { CheckID: string }[];
    assert.deepEqual(byService.map((c) => c.CheckID), ['web-bad-ttl']);
    const byNode = (await httpJson(h.port, 'GET', '/v1/health/node/ref-node')).json as { CheckID: string }[];
    assert.deepEqual(byNode.map((c) => c.CheckID).sort(), ['service:redis-proxy', 'web-bad-ttl']);
    const critical = (await httpJson(h.port, 'GET', '/v1/health/state/critical')).json as { CheckID: string }[];
    assert.equal(critical.length, 2);
    assert.deepEqual((await httpJson(h.port, 'GET', '/v1/health/state/passing')).json, []);
    const bad = await httpJson(h.port, 'GET', '/v1/health/state/sad');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^Bad check state "sad"/);
  });
});
