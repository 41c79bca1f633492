// Prepared queries: execution (filters, Near, TTL) and the DNS `.query` lookup, over test/fixtures/queries/.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { PreparedQuery, Snapshot } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';
import { stableQueryId } from '../../src/config/prepared-query.js';
import type { Config } from '../../src/config/types.js';
import { Rcode } from '../../src/dns/records.js';
import type { Query } from '../../src/dns/records.js';
import { executePreparedQuery } from '../../src/resolve/prepared-query.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import { assertCase, type SeenReply } from '../helpers/case-check.js';
import type { DnsCase } from '../helpers/dns-cases.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, seededRandom, toResolveContext, type CaseContext, type Client } from '../helpers/reference-catalog.js';

const DIR = fileURLToPath(new URL('../fixtures/queries/', import.meta.url));
const RCODE_NAME = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
const SOA = 'consul. 0 IN SOA ns.consul. hostmaster.consul. <serial> 3600 600 86400 0';
const A = {
  server: 'q-server.node.dc1.consul. 0 IN A 127.0.0.1',
  n2: 'n2.node.dc1.consul. 0 IN A 10.0.0.2',
  n3: 'n3.node.dc1.consul. 0 IN A 10.0.0.3',
  n3Txt: 'n3.node.dc1.consul. 0 IN TXT "rack=r3"',
  n4: 'n4.node.dc1.consul. 0 IN A 10.0.0.4',
};
const withTtl = (line: string, ttl: number): string => line.replace(' 0 IN ', ` ${ttl} IN `);

let config: Config;
let snapshot: Snapshot;
let context: CaseContext;

before(async () => {
  ({ config } = await loadConfig({ files: [], dirs: [DIR] }, {}, { hostname: 'ignored' }));
  snapshot = createSnapshot(catalogFromConfig(config), 1);
  context = { domain: config.domain, recursors: false, dns: config.dns };
});

function ask(qname: string, qtype: string, opts: { client?: Client; from?: string; seed?: number } = {}): SeenReply {
  const base = buildQuery(qname, qtype, opts.client ?? 'udp-edns');
  const query: Query = opts.from ? { ...base, client: { address: opts.from, port: 5353 } } : base;
  const res = resolveQuery(query, snapshot, toResolveContext(context, opts.seed ?? 1));
  if (res.kind !== 'answer') throw new Error(`unexpected ${res.kind}`);
  const a = res.answer;
  return {
    rcode: RCODE_NAME.get(a.rcode) ?? String(a.rcode), aa: a.aa,
    answer: a.answer.map(formatRr), authority: a.authority.map(formatRr), additional: a.additional.map(formatRr),
  };
}

function query(name: string): PreparedQuery {
  const q = snapshot.preparedQuery(name);
  assert.ok(q, `fixture query ${name}`);
  return q;
}

const cases: readonly DnsCase[] = [
  {
    desc: 'Connect query: the same endpoints as redis.connect (both proxies, never the plain 6379); TTL from service_ttl.redis',
    qname: 'redis-mesh.query.consul.', qtype: 'SRV',
    answer: ['redis-mesh.query.consul. 7 IN SRV 1 1 21000 q-server.node.dc1.consul.', 'redis-mesh.query.consul. 7 IN SRV 1 1 21001 n2.node.dc1.consul.'],
    additional: [withTtl(A.server, 7), withTtl(A.n2, 7)],
  },
  {
    desc: 'datacenter label accepted', qname: 'redis-mesh.query.dc1.consul.', qtype: 'A',
    answer: ['redis-mesh.query.dc1.consul. 7 IN A 127.0.0.1', 'redis-mesh.query.dc1.consul. 7 IN A 10.0.0.2'],
  },
  { desc: 'another datacenter: NXDOMAIN + SOA', qname: 'redis-mesh.query.dc2.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    desc: 'DNS.TTL wins over service_ttl; plain query returns the plain instance', qname: 'ttl10.query.consul.', qtype: 'SRV',
    answer: ['ttl10.query.consul. 10 IN SRV 1 1 6379 q-server.node.dc1.consul.'], additional: [withTtl(A.server, 10)],
  },
  {
    desc: 'Tags: v1 present (case-insensitive, so V1 too), secondary absent; the warning instance stays without OnlyPassing',
    qname: 'web-v1.query.consul.', qtype: 'SRV',
    answer: ['web-v1.query.consul. 0 IN SRV 1 1 8080 q-server.node.dc1.consul.', 'web-v1.query.consul. 0 IN SRV 1 1 8080 n4.node.dc1.consul.'],
    additional: [A.server, A.n4],
  },
  {
    desc: 'OnlyPassing drops the warning instance', qname: 'web-passing.query.consul.', qtype: 'A',
    answer: ['web-passing.query.consul. 0 IN A 127.0.0.1', 'web-passing.query.consul. 0 IN A 10.0.0.2', 'web-passing.query.consul. 0 IN A 10.0.0.3'],
    additional: ['web-passing.query.consul. 0 IN TXT "rack=r3"'],
  },
  {
    desc: 'a config ID is kept lower-case and looked up by DNS', qname: '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e.query.consul.', qtype: 'A',
    count: { answer: 3 },
    answer: ['0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e.query.consul. 0 IN A 127.0.0.1', '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e.query.consul. 0 IN A 10.0.0.2',
      '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e.query.consul. 0 IN A 10.0.0.3'],
    additional: ['0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e.query.consul. 0 IN TXT "rack=r3"'],
  },
  {
    desc: 'IgnoreCheckIDs: the ignored warning check no longer counts against OnlyPassing', qname: 'web-passing-ignoring.query.consul.', qtype: 'A',
    answer: ['127.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => `web-passing-ignoring.query.consul. 0 IN A ${ip}`),
    additional: ['web-passing-ignoring.query.consul. 0 IN TXT "rack=r3"'],
  },
  {
    desc: 'NodeMeta: only the node with rack=r3', qname: 'rack-r3.query.consul.', qtype: 'SRV',
    answer: ['rack-r3.query.consul. 0 IN SRV 1 1 8081 n3.node.dc1.consul.'], additional: [A.n3, A.n3Txt],
  },
  {
    desc: 'ServiceMeta: only the instance with version=2', qname: 'web-version-2.query.consul.', qtype: 'SRV',
    answer: ['web-version-2.query.consul. 0 IN SRV 1 1 8081 n3.node.dc1.consul.'], additional: [A.n3, A.n3Txt],
  },
  {
    desc: 'a name with dots (declared in HCL, snake_case)', qname: 'some.query.we.like.query.consul.', qtype: 'SRV',
    answer: ['some.query.we.like.query.consul. 0 IN SRV 1 1 5432 q-server.node.dc1.consul.'], additional: [A.server],
  },
  {
    desc: 'names match case-insensitively; the owner is echoed as asked', qname: 'Some.Query.We.Like.QUERY.consul.', qtype: 'A',
    answer: ['Some.Query.We.Like.QUERY.consul. 0 IN A 127.0.0.1'],
  },
  {
    desc: 'an AAAA question on IPv4 instances: NODATA + SOA', qname: 'ttl10.query.consul.', qtype: 'AAAA', authority: [SOA],
  },
  { desc: 'not found: NXDOMAIN + SOA', qname: 'nosuch.query.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  { desc: 'zero nodes (Failover has nowhere to go): NXDOMAIN + SOA', qname: 'ghost.query.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  { desc: 'bare keyword', qname: 'query.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
];

describe('.query answers over test/fixtures/queries/', () => {
  for (const c of cases) {
    it(`${c.qname} ${c.qtype} — ${c.desc}`, () => assertCase(ask(c.qname, c.qtype), c, `${c.qname} ${c.qtype}`));
  }

  it('a config query without ID is found by its name-derived ID, the same on every load', async () => {
    const id = stableQueryId('redis-mesh');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(query('redis-mesh').id, id);
    const again = await loadConfig({ files: [], dirs: [DIR] }, {}, { hostname: 'ignored' });
    assert.equal(catalogFromConfig(again.config).preparedQueries?.find((q) => q.name === 'redis-mesh')?.id, id);
    const byId = ask(`${id}.query.consul.`, 'SRV');
    assert.deepEqual(byId.answer.map((l) => l.split(' ').slice(-2).join(' ')).sort(), ['21000 q-server.node.dc1.consul.', '21001 n2.node.dc1.consul.']);
  });

  it('matches the .connect answer for the same service, record for record', () => {
    const strip = (lines: readonly string[]): string[] => lines.map((l) => l.split(' ').slice(3).join(' ')).sort();
    const viaQuery = ask('redis-mesh.query.consul.', 'SRV');
    const viaConnect = ask('redis.connect.consul.', 'SRV');
    assert.deepEqual(strip(viaQuery.answer), strip(viaConnect.answer));
    assert.equal(viaQuery.answer.length, 2);
  });

  it('UDP without EDNS keeps udp_answer_limit (3 of the 4 web instances)', () => {
    const r = ask('web-all.query.consul.', 'SRV', { client: 'udp' });
    assert.equal(r.answer.length, 3);
    assert.equal(ask('web-all.query.consul.', 'SRV', { client: 'tcp' }).answer.length, 4);
  });

  it('Near _agent puts the agent node first whatever the shuffle; a node name puts that node first', () => {
    for (let seed = 1; seed <= 20; seed++) {
      assert.match(ask('near-agent.query.consul.', 'SRV', { seed }).answer[0] ?? '', / q-server\.node\.dc1\.consul\.$/, `seed ${seed}`);
      assert.match(ask('near-n3.query.consul.', 'SRV', { seed }).answer[0] ?? '', / n3\.node\.dc1\.consul\.$/, `seed ${seed}`);
    }
  });

  it('Near _ip puts the node whose address is the client first; an unknown client leaves the shuffle alone', () => {
    for (let seed = 1; seed <= 20; seed++) {
      assert.match(ask('near-ip.query.consul.', 'SRV', { seed, from: '10.0.0.2' }).answer[0] ?? '', / n2\.node\.dc1\.consul\.$/, `seed ${seed}`);
    }
    const firsts = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) firsts.add(ask('near-ip.query.consul.', 'SRV', { seed, from: '192.0.2.9' }).answer[0] ?? '');
    assert.ok(firsts.size > 1, `an unmatched _ip must not pin one node first: ${[...firsts].join(', ')}`);
  });

  it('the DNS answer keeps the execution order (no second shuffle), and execution does shuffle', () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const r = ask('web-all.query.consul.', 'SRV', { client: 'tcp', seed });
      const executed = executePreparedQuery(snapshot, query('web-all'), { ip: '127.0.0.1' },
        { random: seededRandom(seed), serviceTtl: config.dns.serviceTtl, agentNode: 'q-server' });
      const targets = r.answer.map((l) => l.split(' ').slice(-2).join(' '));
      assert.deepEqual(targets, executed.nodes.map((v) => `${v.instance.port} ${v.node.name}.node.dc1.consul.`), `seed ${seed}`);
      orders.add(targets.join('|'));
    }
    assert.ok(orders.size > 1, 'execution shuffles');
  });
});

describe('executePreparedQuery', () => {
  const ctx = (seed = 1) => ({ random: seededRandom(seed), serviceTtl: config.dns.serviceTtl, agentNode: 'q-server' });

  it('reports our datacenter and the TTL rule (DNS.TTL, else service_ttl of the service, else 0)', () => {
    assert.deepEqual([executePreparedQuery(snapshot, query('ttl10'), {}, ctx()).datacenter, executePreparedQuery(snapshot, query('ttl10'), {}, ctx()).ttl], ['dc1', 10]);
    assert.equal(executePreparedQuery(snapshot, query('redis-mesh'), {}, ctx()).ttl, 7);
    assert.equal(executePreparedQuery(snapshot, query('web-all'), {}, ctx()).ttl, 0);
  });

  it('drops critical instances always, and with onlyPassingDefault the warning ones too', () => {
    const base = query('web-all');
    const critical = createSnapshot({
      ...catalogFromConfig(config),
      checks: [...catalogFromConfig(config).checks, {
        id: 'web-3-down', name: 'down', node: 'n3', serviceId: 'web-3', serviceName: 'web', status: 'critical', notes: '', output: '', type: 'static', definition: {},
      }],
    }, 2);
    const ids = (s: Snapshot, opd?: boolean) =>
      executePreparedQuery(s, base, {}, { ...ctx(), ...(opd !== undefined ? { onlyPassingDefault: opd } : {}) }).nodes.map((v) => v.instance.id).sort();
    assert.deepEqual(ids(critical), ['web-1', 'web-2', 'web-4']);
    assert.deepEqual(ids(critical, true), ['web-1', 'web-2']);
  });

  it('a Connect query filters tags on the proxy, not on the destination', () => {
    const q: PreparedQuery = { ...query('redis-mesh'), service: { ...query('redis-mesh').service, tags: ['mesh'] } };
    assert.deepEqual(executePreparedQuery(snapshot, q, {}, ctx()).nodes.map((v) => v.instance.id), ['redis-proxy-a']);
    const not: PreparedQuery = { ...q, service: { ...q.service, tags: ['!MESH'] } };
    assert.deepEqual(executePreparedQuery(snapshot, not, {}, ctx()).nodes.map((v) => v.instance.id), ['redis-proxy-b']);
  });
});
