// catalogFromConfig with persisted proxy ports (previousPorts), and the prepared queries it puts in the catalog.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import type { CatalogInput } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';
import { stableQueryId } from '../../src/config/prepared-query.js';
import type { Config } from '../../src/config/types.js';

async function load(t: TestContext, files: Record<string, object>): Promise<Config> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-ports-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(dir, name), JSON.stringify(body));
  return (await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'local' })).config;
}

const PROXIES = {
  'a.json': {
    ports: { proxy_min_port: 20000, proxy_max_port: 20009, sidecar_min_port: 21000, sidecar_max_port: 21009 },
    services: [
      { name: 'redis', port: 6379, connect: { proxy: {} } },
      { name: 'web', port: 8080, connect: { proxy: {} } },
      { name: 'fixed', port: 9000, connect: { proxy: { config: { bind_port: 20005 } } } },
      { name: 'api', port: 7000, connect: { sidecar_service: {} } },
    ],
  },
};

function port(c: CatalogInput, id: string): number {
  const s = c.services.find((x) => x.id === id);
  assert.ok(s, id);
  return s.port;
}

function proxyPorts(c: CatalogInput): number[] {
  return c.services.filter((s) => s.managed).map((s) => s.port);
}

test('a proxy keeps its persisted port; everything it derives (bind_port, listening check) follows', async (t) => {
  const config = await load(t, PROXIES);
  const fresh = catalogFromConfig(config);
  const target = [20000, 20001, 20002].find((p) => p !== port(fresh, 'redis-proxy') && p !== port(fresh, 'web-proxy'));
  assert.ok(target !== undefined);
  const c = catalogFromConfig(config, { previousPorts: new Map([['redis-proxy', target], ['api-sidecar-proxy', 21007]]) });
  assert.equal(port(c, 'redis-proxy'), target);
  assert.equal(port(c, 'api-sidecar-proxy'), 21007);
  assert.equal(c.services.find((s) => s.id === 'redis-proxy')?.proxy?.config['bind_port'], target);
  assert.equal(c.checks.find((k) => k.id === 'service:redis-proxy')?.definition.tcp, `127.0.0.1:${target}`);
  assert.equal(c.checks.find((k) => k.id === 'service:api-sidecar-proxy:1')?.definition.tcp, '127.0.0.1:21007');
});

test('a persisted port out of range, or held by a fixed bind_port, is not kept', async (t) => {
  const config = await load(t, PROXIES);
  const fresh = catalogFromConfig(config);
  const c = catalogFromConfig(config, { previousPorts: new Map([['redis-proxy', 30000], ['web-proxy', 20005], ['api-sidecar-proxy', 20001]]) });
  assert.equal(port(c, 'redis-proxy'), port(fresh, 'redis-proxy'));
  assert.notEqual(port(c, 'web-proxy'), 20005);
  assert.equal(port(c, 'fixed-proxy'), 20005);
  assert.ok(port(c, 'api-sidecar-proxy') >= 21000 && port(c, 'api-sidecar-proxy') <= 21009, 'a sidecar stays in the sidecar range');
});

test('one port is never handed to two proxies, whatever the persisted map says', async (t) => {
  const config = await load(t, PROXIES);
  const fresh = catalogFromConfig(config);
  // Both claim the same port, and a third proxy's hash start is claimed by another: all must still differ.
  const clash = new Map([['redis-proxy', 20003], ['web-proxy', 20003]]);
  const c = catalogFromConfig(config, { previousPorts: clash });
  assert.equal(port(c, 'redis-proxy'), 20003, 'the first in order keeps it');
  assert.notEqual(port(c, 'web-proxy'), 20003);
  const taken = catalogFromConfig(config, { previousPorts: new Map([['web-proxy', port(fresh, 'redis-proxy')]]) });
  assert.equal(port(taken, 'web-proxy'), port(fresh, 'redis-proxy'));
  assert.notEqual(port(taken, 'redis-proxy'), port(fresh, 'redis-proxy'), 'the persisted holder wins over a fresh allocation');
  for (const cat of [c, taken]) {
    const ports = proxyPorts(cat);
    assert.equal(new Set(ports).size, ports.length, `unique: ${ports.join(', ')}`);
  }
});

test('without previousPorts nothing changes: allocation is stable across builds', async (t) => {
  const config = await load(t, PROXIES);
  assert.deepEqual(proxyPorts(catalogFromConfig(config)), proxyPorts(catalogFromConfig(config, { previousPorts: new Map() })));
});

test('config prepared queries enter the catalog with index 0 and a stable ID unless they have one', async (t) => {
  const config = await load(t, {
    'q.json': { prepared_queries: [
      { Name: 'Redis-Mesh', Service: { Service: 'redis', Connect: true }, DNS: { TTL: '10s' } },
      { ID: '0D5C2E4A-8B1F-4C3D-9E7A-6F5B4A3C2D1E', Name: 'web', Service: { Service: 'web' } },
    ] },
  });
  const qs = catalogFromConfig(config).preparedQueries ?? [];
  assert.deepEqual(qs.map((q) => [q.id, q.name, q.createIndex, q.modifyIndex]), [
    [stableQueryId('redis-mesh'), 'Redis-Mesh', 0, 0],
    ['0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e', 'web', 0, 0],
  ]);
  assert.deepEqual(qs[0]?.dns, { ttl: 10 });
  assert.notEqual(stableQueryId('a'), stableQueryId('b'));
});
