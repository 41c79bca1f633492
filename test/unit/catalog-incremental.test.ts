// The incremental catalog: random changes answer like a from-scratch reference, publish cheaply, keep old snapshots.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry, type Registry } from '../../src/catalog/registry.js';
import { connectDestination, createSnapshot, snapshotSize } from '../../src/catalog/snapshot.js';
import type { CatalogInput, CatalogNode, Check, InstanceView, PreparedQuery, ServiceInstance, Snapshot } from '../../src/catalog/types.js';
import { canonicalIp } from '../../src/net/addr.js';
import { bigCatalog } from '../helpers/big-catalog.js';
import { seededRandom } from '../helpers/reference-catalog.js';

const rng = seededRandom;

const k = (node: string, id: string): string => `${node.toLowerCase()}\u0000${id}`;

/** The registry's documented semantics over plain ordered Maps: the state a full rebuild would start from. */
class Model {
  localNode: CatalogNode;
  readonly nodes = new Map<string, CatalogNode>();
  readonly services = new Map<string, ServiceInstance>();
  readonly checks = new Map<string, Check>();
  readonly queries = new Map<string, PreparedQuery>();
  constructor(readonly input: CatalogInput) {
    this.localNode = input.localNode;
    for (const n of input.nodes) this.nodes.set(n.name.toLowerCase(), n);
    for (const s of input.services) this.services.set(k(s.node, s.id), s);
    for (const c of input.checks) this.checks.set(k(c.node, c.id), c);
  }
  toInput(): CatalogInput {
    return { datacenter: this.input.datacenter, localNode: this.localNode, nodes: [...this.nodes.values()],
      services: [...this.services.values()], checks: [...this.checks.values()], preparedQueries: [...this.queries.values()] };
  }
  private dropServiceChecks(node: string, id: string): void {
    for (const [key, c] of [...this.checks]) if (c.serviceId === id && c.node.toLowerCase() === node.toLowerCase()) this.checks.delete(key);
  }
  registerService(s: ServiceInstance, own: readonly Check[]): void {
    this.services.set(k(s.node, s.id), s);
    this.dropServiceChecks(s.node, s.id);
    for (const c of own) this.checks.set(k(c.node, c.id), c);
  }
  deregisterService(node: string, id: string): boolean {
    if (!this.services.delete(k(node, id))) return false;
    this.dropServiceChecks(node, id);
    for (const [key, s] of [...this.services]) {
      if (s.managed?.targetServiceId === id && s.node.toLowerCase() === node.toLowerCase()) {
        this.services.delete(key);
        this.dropServiceChecks(node, s.id);
      }
    }
    return true;
  }
  updateCheck(node: string, id: string, status: Check['status'], output?: string): boolean {
    const old = this.checks.get(k(node, id));
    if (!old) return false;
    this.checks.set(k(node, id), { ...old, status, output: output ?? old.output });
    return true;
  }
  deregisterNode(name: string): boolean {
    const lower = name.toLowerCase();
    if (lower === this.localNode.name.toLowerCase() || !this.nodes.delete(lower)) return false;
    for (const [key, s] of [...this.services]) if (s.node.toLowerCase() === lower) this.services.delete(key);
    for (const [key, c] of [...this.checks]) if (c.node.toLowerCase() === lower) this.checks.delete(key);
    return true;
  }
}

const viewTuple = (v: InstanceView): unknown[] => [v.instance, v.node, v.checks, v.status];
type Groups = Map<string, unknown[][]>;
const add = (g: Groups, key: string, v: unknown[]): void => {
  const list = g.get(key);
  if (list) list.push(v);
  else g.set(key, [v]);
};

/** Every lookup's expected answer, computed the plain way (one pass, no incremental state). */
function reference(input: CatalogInput): {
  byName: Groups; byTag: Groups; byConnect: Groups; byAddress: Groups; nodesByAddress: Map<string, CatalogNode[]>;
  nodes: CatalogNode[]; instances: unknown[][]; checks: Check[];
} {
  const nodes: CatalogNode[] = [];
  const byLower = new Map<string, CatalogNode>();
  for (const n of [input.localNode, ...input.nodes]) {
    if (byLower.has(n.name.toLowerCase())) continue;
    byLower.set(n.name.toLowerCase(), n);
    nodes.push(n);
  }
  const nodesByAddress = new Map<string, CatalogNode[]>();
  for (const n of nodes) {
    const ip = canonicalIp(n.address);
    if (ip) nodesByAddress.set(ip, [...(nodesByAddress.get(ip) ?? []), n]);
  }
  const checks = input.checks.filter((c) => byLower.has(c.node.toLowerCase()));
  const checksByNode = new Map<string, Check[]>();
  for (const c of checks) checksByNode.set(c.node.toLowerCase(), [...(checksByNode.get(c.node.toLowerCase()) ?? []), c]);
  const out = { byName: new Map(), byTag: new Map(), byConnect: new Map(), byAddress: new Map(), nodesByAddress, nodes, instances: [] as unknown[][], checks };
  for (const s of input.services) {
    const node = byLower.get(s.node.toLowerCase());
    if (!node) continue;
    const onNode = checksByNode.get(s.node.toLowerCase()) ?? [];
    // Node checks first, then the instance's own, each in catalog order.
    const own = [...onNode.filter((c) => c.serviceId === ''), ...onNode.filter((c) => c.serviceId === s.id)];
    const rank = { passing: 0, warning: 1, critical: 2 } as const;
    const status = own.reduce<Check['status']>((w, c) => (rank[c.status] > rank[w] ? c.status : w), 'passing');
    const v = [s, node, own, status];
    const name = s.service.toLowerCase();
    out.instances.push(v);
    add(out.byName, name, v);
    for (const t of new Set(s.tags.map((x) => x.toLowerCase()))) add(out.byTag, `${name}\u0000${t}`, v);
    const dest = connectDestination(s);
    if (dest !== undefined) add(out.byConnect, dest.toLowerCase(), v);
    const ip = s.address ? canonicalIp(s.address) : undefined;
    if (ip) add(out.byAddress, ip, v);
  }
  return out;
}

/** Names, tags and addresses ever used, so a lookup that should now be empty is asked too. */
interface Probes { names: Set<string>; tags: Set<string>; ips: Set<string>; nodes: Set<string> }

function assertSame(snap: Snapshot, input: CatalogInput, probes: Probes, at: string): void {
  const ref = reference(input);
  for (const name of probes.names) {
    assert.deepEqual(snap.serviceInstances(name).map(viewTuple), ref.byName.get(name.toLowerCase()) ?? [], `${at}: ${name}`);
    assert.deepEqual(snap.serviceInstances(name.toUpperCase()).map(viewTuple), ref.byName.get(name.toLowerCase()) ?? [], `${at}: ${name} upper`);
    assert.deepEqual(snap.connectEndpoints(name).map(viewTuple), ref.byConnect.get(name.toLowerCase()) ?? [], `${at}: ${name}.connect`);
    for (const tag of probes.tags) {
      assert.deepEqual(snap.serviceInstances(name, tag).map(viewTuple), ref.byTag.get(`${name.toLowerCase()}\u0000${tag.toLowerCase()}`) ?? [], `${at}: ${tag}.${name}`);
    }
  }
  for (const ip of probes.ips) {
    assert.deepEqual(snap.instancesByAddress(ip).map(viewTuple), ref.byAddress.get(ip) ?? [], `${at}: instances at ${ip}`);
    assert.deepEqual(snap.nodesByAddress(ip), ref.nodesByAddress.get(ip) ?? [], `${at}: nodes at ${ip}`);
  }
  for (const n of probes.nodes) assert.equal(snap.node(n), ref.nodes.find((x) => x.name.toLowerCase() === n.toLowerCase()), `${at}: node ${n}`);
  assert.deepEqual(snap.nodes(), ref.nodes, `${at}: nodes()`);
  assert.deepEqual(snap.instances().map(viewTuple), ref.instances, `${at}: instances()`);
  assert.deepEqual(snap.checks(), ref.checks, `${at}: checks()`);
  assert.equal(snap.localNode, input.localNode, `${at}: local node`);
  for (const q of input.preparedQueries ?? []) {
    assert.equal(snap.preparedQuery(q.id), q);
    if (q.name) assert.equal(snap.preparedQuery(q.name.toUpperCase())?.name, q.name);
  }
  assert.deepEqual(snap.preparedQueries(), input.preparedQueries ?? []);
  assert.deepEqual(snapshotSize(snap), { instances: ref.instances.length, checks: ref.checks.length, nodes: ref.nodes.length });
}

const TAGS = ['primary', 'secondary', 'v1', 'v2', 'Canary'];
const ADDRS = ['', '', '10.9.0.1', '10.9.0.2', '2001:db8::7', '2001:DB8:0::7', 'host.example.org'];
const STATUSES = ['passing', 'warning', 'critical'] as const;

/** One random change, applied to the registry and the model alike (and their answers compared). */
function randomOp(next: () => number, reg: Registry, model: Model, probes: Probes, i: number): void {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const services = [...model.services.values()];
  const nodeNames = [...model.nodes.values()].map((n) => n.name).concat(model.localNode.name, `ghost-${i % 5}`);
  const check = (node: string, serviceId: string, id: string): Check => ({
    id, name: id, node, serviceId, serviceName: serviceId, status: pick(STATUSES), notes: '', output: `o${i}`, type: 'ttl', definition: { ttl: 30 },
  });
  const r = next();
  if (r < 0.2 && services.length > 0) {
    const old = pick(services);
    const dest = pick([...probes.names]);
    const kind = next() < 0.15 ? 'connect-proxy' : 'typical';
    const s: ServiceInstance = {
      ...old, tags: TAGS.filter(() => next() < 0.4), address: pick(ADDRS), port: 1000 + i, kind, connectNative: next() < 0.1,
      ...(kind === 'connect-proxy' ? { proxy: { destinationServiceName: dest, config: {}, upstreams: [] } } : { proxy: undefined }),
    };
    const own = next() < 0.5 ? [check(s.node, s.id, `service:${s.id}`)] : [];
    reg.registerService(s, own, 'api');
    model.registerService(s, own);
  } else if (r < 0.35) {
    const node = pick(nodeNames);
    const name = next() < 0.7 && services.length > 0 ? pick(services).service : `new-${i % 40}`;
    probes.names.add(name);
    const target = next() < 0.3 ? services.find((x) => x.node.toLowerCase() === node.toLowerCase()) : undefined;
    const s: ServiceInstance = {
      id: `r${i}`, service: target ? `${target.service}-proxy` : name, node: next() < 0.2 ? node.toUpperCase() : node,
      kind: target ? 'connect-proxy' : 'typical', tags: TAGS.filter(() => next() < 0.3), address: pick(ADDRS), port: 2000 + i, meta: {},
      weights: { passing: 1, warning: 1 }, connectNative: !target && next() < 0.1,
      ...(target ? { proxy: { destinationServiceName: target.service, config: {}, upstreams: [] }, managed: { type: 'managed' as const, targetServiceId: target.id } } : {}),
    };
    if (target) probes.names.add(s.service);
    const own = [check(s.node, s.id, `service:${s.id}`), ...(next() < 0.3 ? [check(s.node, s.id, `extra:${s.id}`)] : [])];
    reg.registerService(s, own, 'api');
    model.registerService(s, own);
  } else if (r < 0.47) {
    const s = next() < 0.9 && services.length > 0 ? pick(services) : undefined;
    const [node, id] = s ? [s.node, s.id] : ['node-0', 'nope'];
    assert.equal(reg.deregisterService(node, id), model.deregisterService(node, id));
  } else if (r < 0.57) {
    const onService = next() < 0.6 && services.length > 0 ? pick(services) : undefined;
    const c = onService ? check(onService.node, onService.id, `c${i % 30}`) : check(pick(nodeNames), next() < 0.8 ? '' : 'unregistered', `nc${i % 10}`);
    reg.registerCheck(c, 'api');
    model.checks.set(k(c.node, c.id), c);
  } else if (r < 0.63) {
    const c = pick([...model.checks.values()]);
    assert.equal(reg.deregisterCheck(c.node, c.id), model.checks.delete(k(c.node, c.id)));
  } else if (r < 0.83) {
    const c = pick([...model.checks.values()]);
    const outputOnly = next() < 0.3;
    const status = outputOnly ? c.status : pick(STATUSES);
    const output = next() < 0.5 ? `out${i}` : undefined;
    assert.equal(reg.updateCheck(c.node, c.id, { status, ...(output !== undefined ? { output } : {}) }), model.updateCheck(c.node, c.id, status, output));
  } else if (r < 0.91) {
    const name = pick(nodeNames);
    const n: CatalogNode = { name, address: pick(['10.1.0.1', '10.1.0.2', '10.7.7.7', '2001:db8::1', 'nodes.example']), datacenter: 'dc1', meta: { i: `${i}` } };
    probes.nodes.add(name);
    reg.registerNode(n, 'api');
    if (name.toLowerCase() === model.localNode.name.toLowerCase()) model.localNode = n;
    else model.nodes.set(name.toLowerCase(), n);
  } else if (r < 0.95) {
    const name = pick(nodeNames);
    assert.equal(reg.deregisterNode(name), model.deregisterNode(name));
  } else {
    const id = `q${i % 3}`;
    if (next() < 0.7) {
      const q = { id, name: `query-${i % 3}`, service: { service: pick([...probes.names]) } } as unknown as PreparedQuery;
      reg.setPreparedQuery(q, 'api');
      model.queries.set(id, q);
    } else assert.equal(reg.deletePreparedQuery(id), model.queries.delete(id));
  }
}

function probesFor(input: CatalogInput): Probes {
  const names = new Set(input.services.map((s) => s.service));
  for (const s of input.services) if (s.proxy) names.add(s.proxy.destinationServiceName);
  names.add('absent');
  const ips = new Set<string>();
  for (const a of [...ADDRS, ...input.services.map((s) => s.address), ...input.nodes.map((n) => n.address), '10.1.0.1', '10.1.0.2', '10.7.7.7', '2001:db8::1']) {
    const ip = canonicalIp(a);
    if (ip) ips.add(ip);
  }
  return { names, tags: new Set([...TAGS, 'CANARY', 'none']), ips, nodes: new Set([...input.nodes.slice(0, 5).map((n) => n.name), input.localNode.name, 'ghost-1']) };
}

describe('incremental catalog', () => {
  it('answers every lookup like a full reference build after each of 300 random changes', () => {
    const input = bigCatalog(2000, 200, { nodes: 20 });
    const reg = createRegistry(input);
    const model = new Model(input);
    const probes = probesFor(input);
    probes.names = new Set([...probes.names].filter((_, i) => i % 4 === 0)); // a quarter of the names keeps the run short
    probes.names.add('svc-8');
    probes.names.add('svc-5');
    const next = rng(42);
    for (let i = 0; i < 300; i++) {
      const before = reg.index;
      randomOp(next, reg, model, probes, i);
      assert.ok(reg.index >= before);
      assert.equal(reg.current().version, reg.index);
      assertSame(reg.current(), model.toInput(), probes, `after op ${i}`);
      if (i % 100 === 99) assertSame(createSnapshot(model.toInput(), 0), model.toInput(), probes, `full build at ${i}`);
    }
    assert.ok(reg.current().serviceInstances('svc-8').length > 0, 'the run kept a populated service');
  });

  it('a publish never lists the whole catalog (instances(), checks(), nodes() are not called)', (t) => {
    const input = bigCatalog(2000, 200, { nodes: 20 });
    const reg = createRegistry(input);
    const proto = Object.getPrototypeOf(reg.current()) as Record<string, unknown>;
    const calls: string[] = [];
    const saved = new Map<string, unknown>();
    for (const name of ['instances', 'checks', 'nodes']) {
      saved.set(name, proto[name]);
      proto[name] = function guarded(): never {
        calls.push(name);
        throw new Error(`${name}() called by a publish`);
      };
    }
    t.after(() => { for (const [name, fn] of saved) proto[name] = fn; });
    const model = new Model(input);
    const probes = probesFor(input);
    let published = 0;
    reg.subscribe(() => { published += 1; });
    const next = rng(9);
    for (let i = 0; i < 300; i++) randomOp(next, reg, model, probes, i);
    for (const [name, fn] of saved) proto[name] = fn;
    assert.deepEqual(calls, []);
    assert.ok(published > 200, `changes were published (${published})`);
    assertSame(reg.current(), model.toInput(), probes, 'after the guarded run');
  });

  it('old snapshots keep answering as they did when they were current', () => {
    const input = bigCatalog(2000, 200, { nodes: 20 });
    const reg = createRegistry(input);
    const model = new Model(input);
    const probes = probesFor(input);
    probes.names = new Set([...probes.names].filter((_, i) => i % 5 === 0));
    const kept: { snap: Snapshot; input: CatalogInput; version: number }[] = [];
    const next = rng(1234);
    for (let i = 0; i < 300; i++) {
      if (i % 60 === 0) kept.push({ snap: reg.current(), input: model.toInput(), version: reg.current().version });
      randomOp(next, reg, model, probes, i);
    }
    assert.ok(kept.length >= 5);
    for (const { snap, input: then, version } of kept) {
      assert.equal(snap.version, version);
      assertSame(snap, then, probes, `snapshot ${version}`);
    }
  });

  it('builds 100,000 instances and applies 1,000 changes, each visible at once (times are printed, not asserted)', (t) => {
    const input = bigCatalog(100_000, 10_000);
    let t0 = performance.now();
    const reg = createRegistry(input);
    const built = performance.now() - t0;
    assert.equal(snapshotSize(reg.current()).instances, 100_000);
    t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      const s = input.services[(i * 7919) % input.services.length] as ServiceInstance;
      if (i % 3 === 0) {
        reg.updateCheck(s.node, `service:${s.id}`, { status: 'critical' });
        assert.equal(reg.current().serviceInstances(s.service).find((v) => v.instance.id === s.id)?.status, 'critical');
      } else if (i % 3 === 1) {
        reg.registerService({ ...s, id: `extra-${i}`, tags: ['fresh'] }, [], 'api');
        assert.ok(reg.current().serviceInstances(s.service, 'fresh').some((v) => v.instance.id === `extra-${i}`));
      } else {
        reg.deregisterService(s.node, s.id);
        assert.ok(!reg.current().serviceInstances(s.service).some((v) => v.instance.id === s.id));
      }
    }
    const changed = performance.now() - t0;
    const mem = process.memoryUsage();
    t.diagnostic(`100k instances: build ${built.toFixed(0)} ms; 1,000 changes with a lookup after each ${changed.toFixed(0)} ms (${changed.toFixed(0)} µs each);` +
      ` heap ${(mem.heapUsed / 1e6).toFixed(0)} MB, rss ${(mem.rss / 1e6).toFixed(0)} MB`);
  });
});
