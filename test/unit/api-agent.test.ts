// The agent endpoints over a real registry: register/deregister services and checks, TTL updates, maintenance, reads.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Consul from 'consul';
import { curl, httpJson, startApi, type ApiHarness } from '../helpers/api-harness.js';

type Entry = { Service: { ID: string; Port: number }; Checks: { CheckID: string; Status: string }[] };

async function harness(t: TestContext, opts: Parameters<typeof startApi>[0] = {}): Promise<ApiHarness> {
  const h = await startApi(opts);
  t.after(() => h.close());
  return h;
}

function client(t: TestContext, port: number): Consul {
  const c = new Consul({ host: '127.0.0.1', port });
  t.after(() => c.destroy());
  return c;
}

const ids = (entries: unknown): string[] => (entries as Entry[]).map((e) => e.Service.ID).sort();

describe('agent service registration', () => {
  it('an unmanaged proxy registered with the consul client shows up in /v1/health/connect (curl), the plain instance never', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    await consul.agent.service.register({
      name: 'redis-proxy', id: 'redis-proxy-api', port: 21999, kind: 'connect-proxy',
      proxy: { destinationServiceName: 'redis', localServicePort: 6379 }, check: { ttl: '30s' },
    } as never);
    await consul.agent.service.register({ name: 'redis', id: 'redis-plain-2', port: 6380 });
    const r = await curl(h.port, '/v1/health/connect/redis');
    assert.equal(r.status, 200);
    const entries = JSON.parse(r.body) as Entry[];
    assert.deepEqual(ids(entries), ['redis-proxy', 'redis-proxy-api', 'redis-proxy-ext']);
    const mine = entries.find((e) => e.Service.ID === 'redis-proxy-api');
    assert.equal(mine?.Service.Port, 21999);
    assert.deepEqual(mine?.Checks.map((c) => [c.CheckID, c.Status]), [['service:redis-proxy-api', 'critical']]);
    assert.equal(h.registry.originOf('service', 'ref-node', 'redis-proxy-api'), 'api');
    assert.ok(h.persistCalls() >= 2, 'every registration was persisted');
  });

  it('TTL pass/fail go through the health runner and move the instance in and out of ?passing', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    await consul.agent.service.register({ name: 'redis-proxy', id: 'rp', port: 21001, kind: 'connect-proxy', proxy: { destinationServiceName: 'redis' }, check: { ttl: '30s' } } as never);
    const passingIds = async (): Promise<string[]> => ids(await consul.health.service({ service: 'redis-proxy', passing: true }));
    assert.deepEqual(await passingIds(), ['redis-proxy-ext']);
    await consul.agent.check.pass({ id: 'service:rp', note: 'all good' });
    assert.deepEqual(await passingIds(), ['redis-proxy-ext', 'rp']);
    assert.deepEqual(h.health.ttlCalls.at(-1), { node: 'ref-node', checkId: 'service:rp', status: 'passing', output: 'all good' });
    const fail = await httpJson(h.port, 'PUT', '/v1/agent/check/fail/service:rp?note=down');
    assert.equal(fail.status, 200);
    assert.deepEqual(await passingIds(), ['redis-proxy-ext']);
    const upd = await httpJson(h.port, 'PUT', '/v1/agent/check/update/service:rp', { Status: 'warning', Output: 'slow' });
    assert.equal(upd.status, 200);
    const checks = (await httpJson(h.port, 'GET', '/v1/agent/checks')).json as Record<string, { Status: string; Output: string }>;
    assert.deepEqual([checks['service:rp']?.Status, checks['service:rp']?.Output], ['warning', 'slow']);
    const notTtl = await httpJson(h.port, 'PUT', '/v1/agent/check/pass/service:redis-proxy');
    assert.equal(notTtl.status, 404, 'a TCP check has no TTL to update');
    const bad = await httpJson(h.port, 'PUT', '/v1/agent/check/update/service:rp', { Status: 'fine' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^Status: invalid check status "fine"/);
  });

  it('deregister removes the service and its checks; unknown IDs are 404; a managed proxy cannot be deregistered', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    await consul.agent.service.register({ name: 'api', port: 9000, check: { ttl: '10s' } } as never);
    await consul.agent.service.deregister('api');
    const services = (await httpJson(h.port, 'GET', '/v1/agent/services')).json as Record<string, unknown>;
    assert.equal(services['api'], undefined);
    assert.equal(h.registry.current().checks().some((c) => c.id === 'service:api'), false);
    const unknown = await httpJson(h.port, 'PUT', '/v1/agent/service/deregister/api');
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /Unknown service ID "api"/);
    const managed = await httpJson(h.port, 'PUT', '/v1/agent/service/deregister/redis-proxy');
    assert.equal(managed.status, 400);
    assert.equal(managed.text, 'Managed proxy service cannot be deregistered directly');
    // Deregistering the target takes its managed proxy along.
    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/service/deregister/redis')).status, 200);
    assert.equal(h.registry.current().instances().some((v) => v.instance.id === 'redis-proxy'), false);
  });

  it('service and node maintenance add and remove a critical check with the reason as Notes', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    await consul.agent.service.maintenance({ id: 'web', enable: true, reason: 'upgrading' });
    const web = await consul.health.service('web') as { Service: { ID: string }; Checks: { CheckID: string; Name: string; Status: string; Notes: string }[] }[];
    const check = web.find((e) => e.Service.ID === 'web')?.Checks.find((c) => c.CheckID === '_service_maintenance:web');
    assert.deepEqual(check && [check.Name, check.Status, check.Notes], ['Service Maintenance Mode', 'critical', 'upgrading']);
    assert.deepEqual(ids(await consul.health.service({ service: 'web', passing: true })), []);
    await consul.agent.service.maintenance({ id: 'web', enable: false });
    assert.deepEqual(ids(await consul.health.service({ service: 'web', passing: true })), ['web']);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/service/maintenance/nope?enable=true')).status, 404);
    const missing = await httpJson(h.port, 'PUT', '/v1/agent/service/maintenance/web');
    assert.deepEqual([missing.status, missing.text], [400, 'Missing value for enable']);

    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/maintenance?enable=true')).status, 200);
    const node = h.registry.current().checks().find((c) => c.id === '_node_maintenance');
    assert.equal(node?.name, 'Node Maintenance Mode');
    assert.match(node?.notes ?? '', /no reason was provided/);
    // A node check applies to every service on the node.
    assert.deepEqual(ids(await consul.health.service({ service: 'db', passing: true })), []);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/maintenance?enable=false')).status, 200);
    assert.deepEqual(ids(await consul.health.service({ service: 'db', passing: true })), ['db']);
  });

  it('check register/deregister: TTL, HTTP and service checks; scripts only when enabled', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    await consul.agent.check.register({ name: 'disk', ttl: '15s', notes: 'root fs' } as never);
    await consul.agent.check.register({ name: 'web-http', id: 'web-http', serviceid: 'web', http: 'http://127.0.0.1:1/health', interval: '5s', timeout: '1s' } as never);
    const checks = h.registry.current().checks();
    const disk = checks.find((c) => c.id === 'disk');
    assert.deepEqual(disk && [disk.type, disk.definition.ttl, disk.status, disk.notes, disk.serviceId], ['ttl', 15_000, 'critical', 'root fs', '']);
    const http = checks.find((c) => c.id === 'web-http');
    assert.deepEqual(http && [http.type, http.serviceId, http.serviceName, http.definition.interval], ['http', 'web', 'web', 5000]);
    const script = await httpJson(h.port, 'PUT', '/v1/agent/check/register', { Name: 'sh', Args: ['/bin/true'], Interval: '10s' });
    assert.deepEqual([script.status, script.text], [400, 'Scripts are disabled on this agent']);
    const noService = await httpJson(h.port, 'PUT', '/v1/agent/check/register', { Name: 'x', TTL: '5s', ServiceID: 'ghost' });
    assert.equal(noService.status, 400);
    assert.match(noService.text, /ServiceID: no service with ID "ghost"/);
    await consul.agent.check.deregister('disk');
    assert.equal(h.registry.current().checks().some((c) => c.id === 'disk'), false);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/check/deregister/disk')).status, 404);

    const h2 = await harness(t, { patch: (c) => ({ ...c, enableScriptChecks: true }) });
    const ok = await httpJson(h2.port, 'PUT', '/v1/agent/check/register', { Name: 'sh', ScriptArgs: ['/bin/true'], Interval: '10s' });
    assert.equal(ok.status, 200);
    assert.deepEqual(h2.registry.current().checks().find((c) => c.id === 'sh')?.definition.args, ['/bin/true']);
  });

  it('a sidecar registered through the API gets a sidecar-range port not held by another proxy, and keeps it', async (t) => {
    const h = await harness(t);
    for (const name of ['a1', 'a2', 'a3']) {
      const r = await httpJson(h.port, 'PUT', '/v1/agent/service/register', { Name: name, Port: 7000, Connect: { SidecarService: {} } });
      assert.equal(r.status, 200, r.text);
    }
    const ports = () => h.registry.current().instances().filter((v) => v.instance.managed?.type === 'sidecar').map((v) => v.instance.port);
    const first = ports();
    assert.equal(first.length, 3);
    assert.equal(new Set(first).size, 3, 'no port handed to two sidecars');
    for (const p of first) assert.ok(p >= h.config.ports.sidecarMinPort && p <= h.config.ports.sidecarMaxPort);
    await httpJson(h.port, 'PUT', '/v1/agent/service/register', { Name: 'a2', Port: 7001, Connect: { SidecarService: {} } });
    assert.deepEqual(ports().sort(), [...first].sort(), 'a re-registration keeps its port');
    const listening = h.registry.current().checks().find((c) => c.id === 'service:a2-sidecar-proxy:1');
    const port = h.registry.current().instances().find((v) => v.instance.id === 'a2-sidecar-proxy')?.instance.port;
    assert.equal(listening?.definition.tcp, `127.0.0.1:${port}`);
  });

  it('a managed proxy is refused unless allow_managed_api_registration, then gets the Consul 1.2 ID and check', async (t) => {
    const h = await harness(t);
    const body = { Name: 'cache', Port: 11211, Connect: { Proxy: { Config: {} } } };
    const refused = await httpJson(h.port, 'PUT', '/v1/agent/service/register', body);
    assert.deepEqual([refused.status, refused.text], [400, 'Managed proxy registration via the API is disallowed.']);
    assert.equal(h.registry.current().serviceInstances('cache').length, 0, 'nothing registered');
    const h2 = await harness(t, { patch: (c) => ({ ...c, connect: { ...c.connect, allowManagedApiRegistration: true } }) });
    assert.equal((await httpJson(h2.port, 'PUT', '/v1/agent/service/register', body)).status, 200);
    const proxy = h2.registry.current().instances().find((v) => v.instance.id === 'cache-proxy');
    assert.equal(proxy?.instance.managed?.type, 'managed');
    assert.notEqual(proxy?.instance.port, 20120, 'not the port the config proxy already holds');
    const services = (await httpJson(h2.port, 'GET', '/v1/agent/services')).json as Record<string, { Connect: unknown }>;
    assert.deepEqual(services['cache']?.Connect, { Native: false, Proxy: { ExecMode: 'daemon', Command: [], Config: null } });
  });
});

describe('agent reads', () => {
  it('/v1/agent/services and /v1/agent/checks have the Consul 1.2.4 shapes', async (t) => {
    const h = await harness(t);
    const services = (await httpJson(h.port, 'GET', '/v1/agent/services')).json as Record<string, unknown>;
    assert.deepEqual(Object.keys(services).sort(), ['db', 'redis', 'redis-proxy', 'redis-proxy-ext', 'web', 'web-bad']);
    assert.deepEqual(services['redis-proxy-ext'], {
      Kind: 'connect-proxy', ID: 'redis-proxy-ext', Service: 'redis-proxy', Tags: [], Meta: {}, Port: 8181, Address: '',
      Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, CreateIndex: 0, ModifyIndex: 0,
      ProxyDestination: 'redis', Connect: null,
    });
    const checks = (await httpJson(h.port, 'GET', '/v1/agent/checks')).json as Record<string, unknown>;
    assert.deepEqual(checks['web-bad-ttl'], {
      Node: 'ref-node', CheckID: 'web-bad-ttl', Name: 'never updated TTL', Status: 'critical', Notes: '', Output: '',
      ServiceID: 'web-bad', ServiceName: 'web', ServiceTags: ['secondary', 'v1'], Definition: {}, CreateIndex: 0, ModifyIndex: 0,
    });
  });

  it('/v1/agent/self names the node and datacenter; status leader/peers name the advertise address', async (t) => {
    const h = await harness(t);
    const consul = client(t, h.port);
    const self = await consul.agent.self() as { Config: { Datacenter: string; NodeName: string; Domain: string }; Member: { Name: string } };
    assert.deepEqual([self.Config.Datacenter, self.Config.NodeName, self.Config.Domain, self.Member.Name], ['dc1', 'ref-node', 'consul.', 'ref-node']);
    assert.equal(await consul.status.leader(), '127.0.0.1:8300');
    assert.deepEqual(await consul.status.peers(), ['127.0.0.1:8300']);
  });

  it('/v1/agent/connect/proxy/:id serves the managed proxy config with its hash; unknown is 404', async (t) => {
    const h = await harness(t);
    const r = await curl(h.port, '/v1/agent/connect/proxy/redis-proxy');
    assert.equal(r.status, 200);
    const view = JSON.parse(r.body) as { ProxyServiceID: string; TargetServiceID: string; Config: Record<string, unknown>; ContentHash: string };
    assert.deepEqual([view.ProxyServiceID, view.TargetServiceID, view.Config['bind_port']], ['redis-proxy', 'redis', 20120]);
    assert.equal(r.headers['x-consul-contenthash'], view.ContentHash);
    assert.equal((await curl(h.port, '/v1/agent/connect/proxy/redis-proxy-ext')).status, 404);
  });
});
