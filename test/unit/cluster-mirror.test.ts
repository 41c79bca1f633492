// A worker's mirror: rebuilt from the primary's exported state, it shows the same catalog and follows later ops.
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { describe, it } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry, type Registry } from '../../src/catalog/registry.js';
import type { Check, ServiceInstance, Snapshot } from '../../src/catalog/types.js';
import { isFromWorker, isToWorker } from '../../src/cluster/messages.js';
import { createMirror, exportMirrorState } from '../../src/cluster/mirror.js';
import { loadConfig } from '../../src/config/load.js';
import { REFERENCE_DIR } from '../helpers/api-harness.js';

async function primary(): Promise<Registry> {
  const { config } = await loadConfig({ files: [], dirs: [REFERENCE_DIR] }, { client: '127.0.0.1', dnsPort: 0 }, { hostname: 'test-host' });
  return createRegistry(catalogFromConfig(config));
}

const svc = (id: string, port: number): ServiceInstance => ({
  id, service: id, node: 'ref-node', kind: 'typical', tags: ['t'], address: '', port, meta: {},
  weights: { passing: 1, warning: 1 }, connectNative: false,
});
const ttl = (serviceId: string): Check => ({
  id: `service:${serviceId}`, name: 'ttl', node: 'ref-node', serviceId, serviceName: serviceId, status: 'critical',
  notes: '', output: '', type: 'ttl', definition: { ttl: 30 },
});

/** What DNS and the API could see: instances with their status, checks, nodes, prepared queries. */
function view(s: Snapshot): unknown {
  const byKey = <T>(items: readonly T[], key: (t: T) => string): T[] => [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return {
    localNode: s.localNode,
    nodes: byKey(s.nodes(), (n) => n.name),
    instances: byKey(s.instances(), (v) => v.instance.id).map((v) => ({ ...v.instance, status: v.status })),
    checks: byKey(s.checks(), (c) => c.id),
    queries: byKey(s.preparedQueries(), (q) => q.id),
  };
}

/** The state crosses the IPC channel by structured clone ('advanced' serialization). */
const overTheWire = <T>(v: T): T => deserialize(serialize(v)) as T;

describe('cluster mirror', () => {
  it('a mirror built from the export shows what the primary shows, check states included', async () => {
    const reg = await primary();
    reg.registerService(svc('billing', 7070), [ttl('billing')], 'api');
    reg.updateCheck('ref-node', 'service:billing', { status: 'passing', output: 'ok' });
    reg.registerNode({ name: 'far', address: '10.0.0.9', datacenter: 'dc1', meta: { rack: 'r1' } }, 'api');
    reg.updateCheck('ref-node', 'service:web-bad', { status: 'warning' });
    const mirror = createMirror(overTheWire(exportMirrorState(reg)));
    assert.deepEqual(view(mirror.current()), view(reg.current()));
    assert.equal(mirror.current().serviceInstances('billing')[0]?.status, 'passing');
  });

  it('keeps each entry\'s origin, so a replayed reload drops config entries and keeps API ones', async () => {
    const reg = await primary();
    reg.registerService(svc('billing', 7070), [], 'api');
    const mirror = createMirror(overTheWire(exportMirrorState(reg)));
    reg.subscribeOps((op) => mirror.apply(overTheWire(op)));
    assert.equal(mirror.originOf('service', 'ref-node', 'billing'), 'api');
    assert.equal(mirror.originOf('service', 'ref-node', 'web'), 'config');
    const emptied = { ...exportMirrorState(reg).config, nodes: [], services: [], checks: [], preparedQueries: [] };
    reg.replaceConfig(emptied);
    assert.deepEqual(mirror.current().instances().map((v) => v.instance.id), ['billing']);
    assert.deepEqual(view(mirror.current()), view(reg.current()));
  });

  it('follows every later op: registration, check change, output-only change, deregistration', async () => {
    const reg = await primary();
    const mirror = createMirror(overTheWire(exportMirrorState(reg)));
    reg.subscribeOps((op) => mirror.apply(overTheWire(op)));
    reg.registerService(svc('ledger', 7171), [ttl('ledger')], 'api');
    assert.deepEqual(view(mirror.current()), view(reg.current()));
    reg.updateCheck('ref-node', 'service:ledger', { status: 'passing' });
    assert.equal(mirror.current().serviceInstances('ledger')[0]?.status, 'passing');
    reg.updateCheck('ref-node', 'service:ledger', { status: 'passing', output: 'still fine' });
    assert.equal(mirror.current().checks().find((c) => c.id === 'service:ledger')?.output, 'still fine');
    reg.deregisterService('ref-node', 'ledger');
    assert.deepEqual(mirror.current().serviceInstances('ledger'), []);
    assert.deepEqual(view(mirror.current()), view(reg.current()));
  });

  it('the message guards take only our own tagged messages, not cluster\'s internal ones', () => {
    assert.equal(isToWorker({ cmd: 'NODE_CLUSTER', act: 'newconn' }), false);
    assert.equal(isToWorker({ t: 'hello' }), false, 'a worker message is not for a worker');
    assert.equal(isToWorker({ t: 'stop' }), true);
    assert.equal(isFromWorker({ t: 'listening', endpoints: [] }), true);
    assert.equal(isFromWorker(null), false);
    assert.equal(isFromWorker('status'), false);
  });
});
