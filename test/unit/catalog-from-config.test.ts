// catalogFromConfig: managed and sidecar proxies registered as Consul does, natives, fleet nodes, checks, port allocation.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput, Check, ServiceInstance } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

async function catalog(t: TestContext, files: Record<string, string | object>): Promise<CatalogInput> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-catalog-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  const { config } = await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'local' });
  return catalogFromConfig(config);
}

async function fails(p: Promise<unknown>, code: ErrorCode, key?: string, reason?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, code, err.message);
    if (key !== undefined) assert.equal(err.location.key, key, err.message);
    if (reason) assert.match(err.reason, reason);
    return true;
  });
}

function service(c: CatalogInput, id: string): ServiceInstance {
  const s = c.services.find((x) => x.id === id);
  assert.ok(s, `no service ${id} in ${c.services.map((x) => x.id).join(', ')}`);
  return s;
}

function check(c: CatalogInput, id: string): Check {
  const k = c.checks.find((x) => x.id === id);
  assert.ok(k, `no check ${id} in ${c.checks.map((x) => x.id).join(', ')}`);
  return k;
}

const REDIS = { service: { name: 'redis', port: 6379, connect: { proxy: {} } } };

test('connect.proxy registers <id>-proxy as Consul 1.2 does, right after its target', async (t) => {
  const c = await catalog(t, { 'redis.json': REDIS });
  assert.deepEqual(c.services.map((s) => s.id), ['redis', 'redis-proxy']);
  const p = service(c, 'redis-proxy');
  assert.equal(p.service, 'redis-proxy');
  assert.equal(p.kind, 'connect-proxy');
  assert.equal(p.node, 'local');
  assert.equal(p.address, '');
  assert.ok(p.port >= 20000 && p.port <= 20255, `port ${p.port}`);
  assert.equal(p.proxy?.destinationServiceName, 'redis');
  assert.equal(p.proxy?.destinationServiceId, 'redis');
  assert.equal(p.proxy?.config['bind_port'], p.port);
  assert.equal(p.proxy?.config['local_service_address'], '127.0.0.1:6379');
  assert.deepEqual(p.managed, { type: 'managed', targetServiceId: 'redis', execMode: 'daemon' });
  const k = check(c, 'service:redis-proxy');
  assert.equal(k.name, 'Connect Proxy Listening');
  assert.equal(k.status, 'critical');
  assert.equal(k.type, 'tcp');
  assert.equal(k.serviceId, 'redis-proxy');
  assert.deepEqual(k.definition, { tcp: `127.0.0.1:${p.port}`, interval: 10_000 });
  // The snapshot serves it from .connect, next to nothing else: the plain redis instance is never a Connect endpoint.
  const snap = createSnapshot(c, 1);
  assert.deepEqual(snap.connectEndpoints('redis').map((v) => v.instance.id), ['redis-proxy']);
});

test('an allocated proxy port is stable across builds and when other proxies come and go', async (t) => {
  const one = service(await catalog(t, { 'redis.json': REDIS }), 'redis-proxy').port;
  const again = service(await catalog(t, { 'redis.json': REDIS }), 'redis-proxy').port;
  assert.equal(again, one);
  const others = await catalog(t, {
    '0-more.json': { services: ['a', 'b', 'c', 'd'].map((name, i) => ({ name, port: 7000 + i, connect: { proxy: {} } })) },
    'redis.json': REDIS,
  });
  assert.equal(service(others, 'redis-proxy').port, one);
  const ports = others.services.filter((s) => s.managed).map((s) => s.port);
  assert.equal(new Set(ports).size, ports.length, `distinct ports ${ports.join(',')}`);
});

test('a taken port is skipped: explicit ports first, then allocations in order', async (t) => {
  const first = service(await catalog(t, { 'redis.json': REDIS }), 'redis-proxy').port;
  const c = await catalog(t, { 'a.json': { service: { name: 'squatter', port: first } }, 'redis.json': REDIS });
  const moved = service(c, 'redis-proxy').port;
  assert.notEqual(moved, first);
  assert.equal(moved, first === 20255 ? 20000 : first + 1);
});

test('bind_port and bind_address are honoured, and the check probes the bind address', async (t) => {
  const c = await catalog(t, {
    'a.json': { services: [
      { name: 'a', port: 1, connect: { proxy: { config: { bind_port: 30001, bind_address: '10.0.0.7' } } } },
      { name: 'b', port: 2, connect: { proxy: { config: { bind_address: '0.0.0.0', tcp_check_address: '10.0.0.8' } } } },
      { name: 'c', port: 3, connect: { proxy: { config: { bind_address: '::' } } } },
      { name: 'd', port: 4, connect: { proxy: { config: { disable_tcp_check: true } } } },
    ] },
  });
  const a = service(c, 'a-proxy');
  assert.equal(a.port, 30001);
  assert.equal(a.address, '10.0.0.7');
  assert.equal(check(c, 'service:a-proxy').definition.tcp, '10.0.0.7:30001');
  assert.equal(check(c, 'service:b-proxy').definition.tcp, `10.0.0.8:${service(c, 'b-proxy').port}`);
  assert.equal(check(c, 'service:c-proxy').definition.tcp, `127.0.0.1:${service(c, 'c-proxy').port}`);
  assert.equal(c.checks.find((k) => k.serviceId === 'd-proxy'), undefined);
  await fails(catalog(t, { 'a.json': { service: { name: 'a', connect: { proxy: { config: { bind_port: '9' } } } } } }),
    ErrorCode.CONFIG_TYPE, 'service.connect.proxy.config.bind_port');
});

test('proxy_defaults give the exec mode, command and config a service does not set', async (t) => {
  const c = await catalog(t, {
    'agent.hcl': 'connect {\n  proxy_defaults {\n    exec_mode = "script"\n    script_command = ["/bin/s"]\n    daemon_command = ["/bin/d"]\n'
      + '    config {\n      timeout = 1\n      keep = "yes"\n    }\n  }\n}\n',
    'svc.json': { services: [
      { name: 'a', port: 1, connect: { proxy: {} } },
      { name: 'b', port: 2, connect: { proxy: { exec_mode: 'daemon', config: { timeout: 2 } } } },
      { name: 'c', port: 3, connect: { proxy: { command: ['/bin/mine'] } } },
    ] },
  });
  assert.deepEqual(service(c, 'a-proxy').managed, { type: 'managed', targetServiceId: 'a', execMode: 'script', command: ['/bin/s'] });
  assert.deepEqual(service(c, 'b-proxy').managed?.command, ['/bin/d']);
  assert.equal(service(c, 'b-proxy').proxy?.config['timeout'], 2);
  assert.equal(service(c, 'b-proxy').proxy?.config['keep'], 'yes');
  assert.deepEqual(service(c, 'c-proxy').managed?.command, ['/bin/mine']);
});

test('connect.sidecar_service registers <id>-sidecar-proxy with a port from 21000-21255', async (t) => {
  const c = await catalog(t, { 'web.json': { service: { id: 'web-1', name: 'web', port: 8080, tags: ['t'],
    connect: { sidecar_service: { proxy: { upstreams: [{ destination_name: 'db', local_bind_port: 9000 }] } } } } } });
  assert.deepEqual(c.services.map((s) => s.id), ['web-1', 'web-1-sidecar-proxy']);
  const s = service(c, 'web-1-sidecar-proxy');
  assert.equal(s.service, 'web-sidecar-proxy');
  assert.equal(s.kind, 'connect-proxy');
  assert.ok(s.port >= 21000 && s.port <= 21255, `port ${s.port}`);
  assert.deepEqual(s.tags, []);
  assert.equal(s.proxy?.destinationServiceName, 'web');
  assert.equal(s.proxy?.destinationServiceId, 'web-1');
  assert.equal(s.proxy?.localServicePort, 8080);
  assert.deepEqual(s.proxy?.upstreams, [{ destination_name: 'db', local_bind_port: 9000 }]);
  assert.deepEqual(s.managed, { type: 'sidecar', targetServiceId: 'web-1' });
  const k = check(c, 'service:web-1-sidecar-proxy:1');
  assert.equal(k.name, 'Connect Sidecar Listening');
  assert.equal(k.status, 'critical');
  assert.equal(k.definition.tcp, `127.0.0.1:${s.port}`);
  const fixed = await catalog(t, { 'web.json': { service: { name: 'web', port: 1, connect: { sidecar_service: { port: 5555 } } } } });
  assert.equal(service(fixed, 'web-sidecar-proxy').port, 5555);
});

test('connect.native makes the instance itself a Connect endpoint; it excludes a proxy and a connect-proxy kind', async (t) => {
  const c = await catalog(t, { 'db.json': { service: { name: 'db', port: 5432, connect: { native: true } } } });
  assert.equal(service(c, 'db').connectNative, true);
  assert.deepEqual(createSnapshot(c, 1).connectEndpoints('db').map((v) => v.instance.port), [5432]);
  await fails(catalog(t, { 'a.json': { service: { name: 'a', connect: { native: true, proxy: {} } } } }), ErrorCode.CONFIG_VALUE, 'service.connect');
  await fails(catalog(t, { 'a.json': { service: { name: 'a', kind: 'connect-proxy', proxy_destination: 'x', port: 1, connect: { native: true } } } }),
    ErrorCode.CONFIG_VALUE, 'service.connect.native');
});

test('an unmanaged connect-proxy needs a destination and a port', async (t) => {
  await fails(catalog(t, { 'a.json': { service: { name: 'p', kind: 'connect-proxy', port: 1 } } }), ErrorCode.CONFIG_VALUE, 'service',
    /needs proxy.destination_service_name/);
  await fails(catalog(t, { 'a.json': { service: { name: 'p', kind: 'connect-proxy', proxy_destination: 'x' } } }), ErrorCode.CONFIG_VALUE, 'service.port');
  await fails(catalog(t, { 'a.json': { service: { name: 'p', proxy_destination: 'x', port: 1 } } }), ErrorCode.CONFIG_VALUE, 'service.proxy_destination');
  const c = await catalog(t, { 'a.json': { service: { name: 'p', kind: 'connect-proxy', port: 1, proxy: { destination_service_name: 'x' } } } });
  assert.equal(service(c, 'p').proxy?.destinationServiceName, 'x');
});

test('nodes bring other nodes with their services, node checks and service checks', async (t) => {
  const c = await catalog(t, {
    'nodes.json': { node_meta: { role: 'edge' }, nodes: [
      { node: 'n1', address: '10.0.0.1', meta: { rack: 'a' }, services: [{ name: 'api', port: 80, address: '10.0.1.1' }],
        checks: [{ id: 'disk', name: 'disk', status: 'critical' }, { name: 'api http', service_id: 'api', http: 'http://10.0.1.1/', interval: '5s' }] },
      { node: 'n2', address: 'fd00::2', services: [{ name: 'api', port: 80, checks: [{ ttl: '9s', status: 'passing' }, { ttl: '9s' }] }] },
    ] },
  });
  assert.deepEqual(c.localNode, { name: 'local', address: '127.0.0.1', datacenter: 'dc1', meta: { role: 'edge' } });
  assert.deepEqual(c.nodes.map((n) => [n.name, n.address, n.meta]), [['n1', '10.0.0.1', { rack: 'a' }], ['n2', 'fd00::2', {}]]);
  const disk = check(c, 'disk');
  assert.deepEqual([disk.node, disk.serviceId, disk.status, disk.type], ['n1', '', 'critical', 'static']);
  const http = check(c, 'api http');
  assert.deepEqual([http.node, http.serviceId, http.serviceName, http.status, http.type], ['n1', 'api', 'api', 'critical', 'http']);
  // Several unnamed checks on one service are numbered, as Consul does.
  assert.deepEqual(c.checks.filter((k) => k.node === 'n2').map((k) => [k.id, k.name, k.status]),
    [['service:api:1', "Service 'api' check", 'passing'], ['service:api:2', "Service 'api' check", 'critical']]);
  const snap = createSnapshot(c, 1);
  assert.deepEqual(snap.serviceInstances('api').map((v) => [v.node.name, v.status]), [['n1', 'critical'], ['n2', 'critical']]);
  await fails(catalog(t, { 'a.json': { nodes: [{ node: 'local', address: '10.0.0.1' }] } }), ErrorCode.CONFIG_DUPLICATE_ID, 'nodes[0].node');
  await fails(catalog(t, { 'a.json': { nodes: [{ node: 'n', address: '10.0.0.1', services: [{ name: 'a', connect: { proxy: {} } }] }] } }),
    ErrorCode.CONFIG_VALUE, 'nodes[0].services[0].connect.proxy');
  await fails(catalog(t, { 'a.json': { check: { name: 'c', service_id: 'ghost', ttl: '1s' } } }), ErrorCode.CONFIG_VALUE, 'check.service_id');
  await fails(catalog(t, { 'a.json': { checks: [{ name: 'c', ttl: '1s' }, { name: 'c', ttl: '2s' }] } }), ErrorCode.CONFIG_DUPLICATE_ID, 'checks[1]');
});

test('a full port range is an error naming the service, in Consul\'s words', async (t) => {
  await fails(catalog(t, {
    'agent.json': { ports: { proxy_min_port: 20000, proxy_max_port: 20000 } },
    'svc.json': { services: [{ name: 'a', port: 1, connect: { proxy: {} } }, { name: 'b', port: 2, connect: { proxy: {} } }] },
  }), ErrorCode.CONFIG_VALUE, 'services[1].connect.proxy', /no port provided for proxy bind_port and none left in the allocated range/);
  const one = await catalog(t, {
    'agent.json': { ports: { proxy_min_port: 20000, proxy_max_port: 20000 } },
    'svc.json': { services: [{ name: 'a', port: 1, connect: { proxy: {} } }] },
  });
  assert.equal(service(one, 'a-proxy').port, 20000);
});
