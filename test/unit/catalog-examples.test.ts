// Every examples/ directory loads cleanly and registers what its README paragraph promises.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput, Snapshot } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

async function load(name: string): Promise<{ input: CatalogInput; snap: Snapshot }> {
  const { config, warnings } = await loadConfig({ files: [], dirs: [`${EXAMPLES}${name}`] }, {}, { hostname: 'example-host' });
  assert.deepEqual(warnings, [], `${name} loads without warnings`);
  const input = catalogFromConfig(config);
  return { input, snap: createSnapshot(input, 1) };
}

const ports = (snap: Snapshot, name: string): number[] => snap.connectEndpoints(name).map((v) => v.instance.port);

test('every example directory is covered here', async () => {
  const dirs = (await readdir(EXAMPLES, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  assert.deepEqual(dirs, ['fleet', 'managed-proxy-custom', 'managed-proxy-minimal', 'managed-proxy-upstreams', 'native',
    'proxy-defaults', 'quickstart', 'sidecar', 'unmanaged-proxy']);
});

test('quickstart: the reference setup of the Consul 1.2.4 captures', async () => {
  const { input, snap } = await load('quickstart');
  assert.equal(input.localNode.name, 'ref-node');
  assert.equal(input.datacenter, 'dc1');
  assert.deepEqual(input.services.map((s) => s.id).sort(), ['db', 'redis', 'redis-proxy', 'redis-proxy-ext', 'web', 'web-bad']);
  const endpoints = snap.connectEndpoints('redis').map((v) => v.instance);
  assert.deepEqual(endpoints.map((s) => s.id).sort(), ['redis-proxy', 'redis-proxy-ext']);
  assert.equal(endpoints.find((s) => s.id === 'redis-proxy-ext')?.port, 8181);
  const managed = endpoints.find((s) => s.id === 'redis-proxy');
  assert.ok(managed && managed.port >= 20000 && managed.port <= 20255);
  assert.deepEqual(ports(snap, 'db'), [5432]);
  assert.deepEqual(snap.serviceInstances('web').map((v) => [v.instance.port, v.status]), [[8081, 'critical'], [8080, 'passing']]);
  assert.deepEqual(snap.serviceInstances('web', 'primary').map((v) => v.instance.port), [8080]);
});

test('managed-proxy-minimal: one service and its managed proxy', async () => {
  const { input } = await load('managed-proxy-minimal');
  assert.deepEqual(input.services.map((s) => [s.id, s.kind]), [['redis', 'typical'], ['redis-proxy', 'connect-proxy']]);
  assert.equal(input.checks.find((c) => c.serviceId === 'redis-proxy')?.name, 'Connect Proxy Listening');
});

test('managed-proxy-upstreams: upstreams reach the proxy, one of them a prepared query', async () => {
  const { input } = await load('managed-proxy-upstreams');
  const web = input.services.find((s) => s.id === 'web-proxy');
  assert.deepEqual(web?.proxy?.upstreams.map((u) => [u['destination_type'] ?? 'service', u['destination_name'], u['local_bind_port']]),
    [['service', 'redis', 9191], ['prepared_query', 'geo-db', 9192]]);
});

test('managed-proxy-custom: exec mode, command and a fixed bind_port', async () => {
  const { input, snap } = await load('managed-proxy-custom');
  const p = input.services.find((s) => s.id === 'billing-proxy');
  assert.deepEqual(p?.managed, { type: 'managed', targetServiceId: 'billing', execMode: 'daemon', command: ['/usr/local/bin/my-proxy', '-flag'] });
  assert.deepEqual(ports(snap, 'billing'), [20500]);
  assert.equal(p?.address, '127.0.0.1');
});

test('proxy-defaults: inherited by one service, overridden by another', async () => {
  const { input } = await load('proxy-defaults');
  const inv = input.services.find((s) => s.id === 'inventory-proxy');
  const orders = input.services.find((s) => s.id === 'orders-proxy');
  assert.deepEqual(inv?.managed?.command, ['/usr/local/bin/my-proxy', '-defaults']);
  assert.equal(inv?.proxy?.config['connect_timeout_ms'], 1000);
  assert.equal(orders?.proxy?.config['connect_timeout_ms'], 250);
});

test('unmanaged-proxy: both spellings of the destination are Connect endpoints for api', async () => {
  const { snap } = await load('unmanaged-proxy');
  assert.deepEqual(ports(snap, 'api').sort(), [21500, 21501]);
  assert.deepEqual(snap.serviceInstances('api').map((v) => v.instance.port), [9090]);
});

test('native: Connect-native services answer .connect with their own port', async () => {
  const { snap } = await load('native');
  assert.deepEqual(ports(snap, 'db'), [5432]);
  assert.deepEqual(ports(snap, 'cache'), [11211]);
});

test('sidecar: sidecars registered with ports from the sidecar range or as given', async () => {
  const { snap } = await load('sidecar');
  const [web] = ports(snap, 'web');
  assert.ok(web !== undefined && web >= 21000 && web <= 21255);
  assert.deepEqual(ports(snap, 'api'), [21999]);
});

test('fleet: three more nodes, IPv4 and IPv6, node meta, a critical node check, proxies on each node', async () => {
  const { input, snap } = await load('fleet');
  assert.equal(input.localNode.name, 'edge-1');
  assert.deepEqual(input.nodes.map((n) => [n.name, n.address]), [['node-a', '10.0.0.11'], ['node-b', '10.0.0.12'], ['node-c', 'fd00::13']]);
  assert.equal(snap.node('node-a')?.meta['zone'], 'eu-west-1a');
  assert.deepEqual(snap.serviceInstances('redis', 'v7.2').map((v) => v.node.name), ['node-a', 'node-b']);
  assert.deepEqual(snap.serviceInstances('redis').map((v) => [v.node.name, v.status]), [['node-a', 'passing'], ['node-b', 'critical']]);
  assert.deepEqual(snap.instancesByAddress('10.0.1.11').map((v) => v.instance.service), ['web']);
  for (const node of ['node-a', 'node-b', 'node-c']) {
    assert.ok(input.services.some((s) => s.node === node && s.kind === 'connect-proxy'), `a proxy on ${node}`);
  }
  const web = snap.connectEndpoints('web').map((v) => [v.node.name, v.instance.port] as const);
  assert.deepEqual(web.map(([node]) => node), ['node-a', 'node-c']);
  assert.ok((web[0]?.[1] ?? 0) >= 21000 && (web[0]?.[1] ?? 0) <= 21255, `sidecar port ${web[0]?.[1]}`);
  assert.equal(web[1]?.[1], 21001);
});
