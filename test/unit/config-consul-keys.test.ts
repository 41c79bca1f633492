// Newer Consul keys load with the one "ignoring keys" warning; node names DNS cannot carry load with a warning each.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { nodeNameProblem } from '../../src/config/node-names.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

const ENV = { hostname: 'test-host' };

async function loadDir(t: TestContext, files: Record<string, string | object>, flags: ConfigFlags = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return loadConfig({ files: [], dirs: [dir] }, flags, ENV);
}

test('a Consul 1.15–1.17 agent config loads; its keys are listed in the one ignoring-keys warning', async (t) => {
  const { config, warnings } = await loadDir(t, {
    'agent.json': {
      peering: { enabled: true }, xds: { update_max_per_second: 250 }, experiments: ['resource-apis'],
      advertise_reconnect_timeout: '15m', raft_logstore: { backend: 'wal' }, raft_boltdb: { NoFreelistSync: true },
      locality: { region: 'us-east-1', zone: 'us-east-1a' }, cloud: { resource_id: 'x' }, reporting: { license: { enabled: false } },
      log_sublevels: { dns: 'debug' }, snapshot_agent: { snapshot: { interval: '1h' } }, tagged_addresses: { lan: '10.0.0.1' },
      partition: 'default', license_path: '/etc/consul.hclic', license_poll_base_time: '1m',
      connect: { enabled: true, enable_serverless_plugin: true },
      service: { name: 'web', port: 80, socket_path: '/run/web.sock', check: { ttl: '10s', namespace: 'default', partition: 'default' } },
    },
  });
  assert.deepEqual(config.services.map((s) => s.name), ['web']);
  const expected = ['peering', 'xds', 'experiments', 'advertise_reconnect_timeout', 'raft_logstore', 'raft_boltdb', 'locality',
    'cloud', 'reporting', 'log_sublevels', 'snapshot_agent', 'tagged_addresses', 'partition', 'license_path', 'license_poll_base_time',
    'connect.enable_serverless_plugin', 'service.socket_path', 'service.check.namespace', 'service.check.partition'];
  assert.deepEqual([...config.ignoredKeys].sort(), [...expected].sort());
  const lines = warnings.filter((w) => w.startsWith('ignoring keys not used by connect-dns: '));
  assert.equal(lines.length, 1);
  for (const key of expected) assert.ok(lines[0]?.includes(key), key);
});

test('the same keys in HCL load too, and a misspelt one still stops the load', async (t) => {
  const hcl = 'peering {\n  enabled = true\n}\nexperiments = ["a"]\nconnect {\n  enable_serverless_plugin = false\n}\n';
  const { config } = await loadDir(t, { 'agent.hcl': hcl });
  assert.deepEqual([...config.ignoredKeys].sort(), ['connect.enable_serverless_plugin', 'experiments', 'peering']);
  await assert.rejects(loadDir(t, { 'agent.hcl': 'peerings {\n  enabled = true\n}\n' }),
    (e: unknown) => e instanceof ConfigError && e.code === ErrorCode.CONFIG_UNKNOWN_KEY && e.location.key === 'peerings');
});

test('a node name DNS cannot carry loads, with one warning per name', async (t) => {
  const { config, warnings } = await loadDir(t, {
    'a.json': { node_name: 'bad node', nodes: [{ node: 'bad node', address: '10.0.0.1' }, { node: 'ok.dotted_name-1', address: '10.0.0.2' },
      { node: 'caf\u00e9', address: '10.0.0.3' }] },
    'b.json': { nodes: [{ node: 'bad node', address: '10.0.0.4' }] },
  });
  assert.equal(config.nodeName, 'bad node');
  assert.deepEqual(config.nodes.map((n) => n.node), ['bad node', 'ok.dotted_name-1', 'caf\u00e9', 'bad node']);
  const about = warnings.filter((w) => w.includes('will not be discoverable via DNS'));
  assert.equal(about.length, 2, about.join('\n'));
  assert.ok(about[0]?.endsWith('node "bad node" will not be discoverable via DNS: its name has characters DNS names cannot carry'), about[0]);
  assert.match(about[0] ?? '', /a\.json: node_name: /);
  assert.match(about[1] ?? '', /a\.json: nodes\[2\]\.node: node "café" will not be discoverable via DNS/);
});

test('the agent node name from --node is checked and placed at the flag', async (t) => {
  const { warnings } = await loadDir(t, {}, { node: 'my\tnode' });
  assert.deepEqual(warnings, ['<flags>: --node: node "my\\tnode" will not be discoverable via DNS: its name has characters DNS names cannot carry']);
  assert.deepEqual((await loadDir(t, {}, { node: 'fine-node.rack1' })).warnings, []);
});

test('node names: labels of 1–63 printable octets, the whole name at most 255 octets under node.<dc>.<domain>', () => {
  assert.equal(nodeNameProblem('web-1', 'dc1', 'consul.'), undefined);
  assert.equal(nodeNameProblem('a!b#c', 'dc1', 'consul.'), undefined, 'printable ASCII is carried as is');
  for (const bad of ['a b', 'tab\there', 'caf\u00e9', 'nul\u0000']) assert.match(nodeNameProblem(bad, 'dc1', 'consul.') ?? '', /characters/, bad);
  for (const bad of ['a..b', '.a', 'a.', '']) assert.match(nodeNameProblem(bad, 'dc1', 'consul.') ?? '', /empty label/, JSON.stringify(bad));
  assert.equal(nodeNameProblem('x'.repeat(63), 'dc1', 'consul.'), undefined);
  assert.match(nodeNameProblem('x'.repeat(64), 'dc1', 'consul.') ?? '', /longer than 63/);
  // "<node>.node.dc1.consul." is node + 18 octets on the wire, so 237 is the longest node name that fits.
  const longest = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(45)].join('.');
  assert.equal(longest.length, 237);
  assert.equal(nodeNameProblem(longest, 'dc1', 'consul.'), undefined);
  assert.match(nodeNameProblem(`${longest}d`, 'dc1', 'consul.') ?? '', /too long/);
  assert.match(nodeNameProblem(longest, 'dc10', 'consul.') ?? '', /too long/, 'a longer datacenter leaves less room');
});
