// Service answers: shuffle spread, udp_answer_limit subsets by transport (Additional in step), TC, a_record_limit, only_passing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { DnsConfig } from '../../src/config/types.js';
import { Rcode } from '../../src/dns/records.js';
import type { Answer, Query, Rr } from '../../src/dns/records.js';
import type { CatalogNode } from '../../src/catalog/types.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import type { ResolveContext } from '../../src/resolve/types.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, seededRandom, service, toResolveContext } from '../helpers/reference-catalog.js';
import { BIG_COUNT, richCatalog, richContext } from '../helpers/rich-catalog.js';

const snapshot = createSnapshot(richCatalog(), 1);

function context(dns: Partial<DnsConfig> = {}, seed = 7): ResolveContext {
  const base = richContext();
  return { ...toResolveContext({ ...base, dns: { ...base.dns, ...dns } }), random: seededRandom(seed) };
}

function answerOf(q: Query, ctx: ResolveContext): Answer {
  const r = resolveQuery(q, snapshot, ctx);
  assert.equal(r.kind, 'answer');
  return r.answer;
}

const bigSrv = (client: 'udp' | 'udp-edns' | 'tcp'): Query => buildQuery('big.service.consul.', 'SRV', client);

describe('count limits', () => {
  it('plain UDP gets udp_answer_limit (3) answers, each with its A', () => {
    const a = answerOf(bigSrv('udp'), context());
    assert.equal(a.answer.length, 3);
    assert.equal(a.additional.length, 3);
    const targets = a.answer.map((rr) => (rr.type === 'SRV' ? rr.target : ''));
    assert.deepEqual(a.additional.map((rr) => rr.name), targets, 'Additional follows the kept answers');
    assert.equal(a.tc, undefined, 'no TC without enable_truncate');
    assert.equal(a.rcode, Rcode.NOERROR);
  });
  it('EDNS 512 counts as plain UDP; udp_answer_limit is capped at 8', () => {
    const q = { ...bigSrv('udp'), edns: { udpSize: 512, version: 0, do: false } };
    assert.equal(answerOf(q, context({ udpAnswerLimit: 50 })).answer.length, 8);
  });
  it('EDNS 1232 and TCP get all 100 before size fitting', () => {
    assert.equal(answerOf(bigSrv('udp-edns'), context()).answer.length, BIG_COUNT);
    assert.equal(answerOf(bigSrv('tcp'), context()).answer.length, BIG_COUNT);
    assert.equal(answerOf(buildQuery('big.service.consul.', 'A', 'tcp'), context()).answer.length, BIG_COUNT);
  });
  it('enable_truncate sets TC only when records were dropped', () => {
    assert.equal(answerOf(bigSrv('udp'), context({ enableTruncate: true })).tc, true);
    assert.equal(answerOf(bigSrv('tcp'), context({ enableTruncate: true })).tc, undefined);
    assert.equal(answerOf(buildQuery('db.service.consul.', 'SRV', 'udp'), context({ enableTruncate: true })).tc, undefined);
  });
  it('udp_answer_limit 0: empty NOERROR with the SOA, no orphaned Additional', () => {
    const a = answerOf(bigSrv('udp'), context({ udpAnswerLimit: 0 }));
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.deepEqual(a.answer, []);
    assert.deepEqual(a.authority.map((rr) => rr.type), ['SOA']);
    assert.deepEqual(a.additional, []);
  });
  it('a_record_limit caps A answers on every transport, but not SRV', () => {
    assert.equal(answerOf(buildQuery('big.service.consul.', 'A', 'tcp'), context({ aRecordLimit: 2 })).answer.length, 2);
    assert.equal(answerOf(buildQuery('big.service.consul.', 'A', 'udp'), context({ aRecordLimit: 2 })).answer.length, 2);
    assert.equal(answerOf(bigSrv('tcp'), context({ aRecordLimit: 2 })).answer.length, BIG_COUNT);
  });
});

describe('shuffle', () => {
  it('10 queries of `big` over plain UDP give at least 2 distinct subsets, all healthy members', () => {
    const ctx = context({}, 42);
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const a = answerOf(bigSrv('udp'), ctx);
      for (const rr of a.answer) assert.match(formatRr(rr), /^big\.service\.consul\. 5 IN SRV 1 1 7000 big-\d+\.node\.lab1\.consul\.$/);
      orders.add(a.answer.map(formatRr).join('|'));
    }
    assert.ok(orders.size >= 2, `only ${orders.size} distinct answer sets`);
  });
  it('the order of a full answer changes too', () => {
    const ctx = context({}, 3);
    const first = answerOf(bigSrv('tcp'), ctx).answer.map(formatRr);
    const second = answerOf(bigSrv('tcp'), ctx).answer.map(formatRr);
    assert.deepEqual([...first].sort(), [...second].sort());
    assert.notDeepEqual(first, second);
  });
});

describe('only_passing', () => {
  it('keeps warning instances by default and drops them with only_passing', () => {
    const names = (dns: Partial<DnsConfig>): string[] =>
      answerOf(buildQuery('web.service.consul.', 'SRV'), context(dns)).answer.map((rr) => (rr.type === 'SRV' ? rr.target : '')).sort();
    assert.deepEqual(names({}), ['alpha.node.lab1.consul.', 'beta.node.lab1.consul.', 'gamma.node.lab1.consul.']);
    assert.deepEqual(names({ onlyPassing: true }), ['alpha.node.lab1.consul.', 'gamma.node.lab1.consul.']);
  });
  it('a service whose only instances warn is NXDOMAIN with only_passing', () => {
    const catalog = richCatalog();
    const checks = [...catalog.checks, { ...catalog.checks[0]!, id: 'alpha-web', node: 'alpha', status: 'warning' as const }];
    const snap = createSnapshot({ ...catalog, checks }, 2);
    const r = resolveQuery(buildQuery('primary.web.service.consul.', 'SRV'), snap, context({ onlyPassing: true }));
    assert.ok(r.kind === 'answer' && r.answer.rcode === Rcode.NXDOMAIN);
  });
});

describe('count limits with node meta (udp_answer_limit cuts address answers per instance)', () => {
  const metaNode = (i: number): CatalogNode => ({ name: `m-${i}`, address: `10.4.0.${i}`, datacenter: 'lab1', meta: { 'host-id': `m-${i}` } });
  const nodes = Array.from({ length: 10 }, (_, i) => metaNode(i + 1));
  const v6: CatalogNode = { name: 'six', address: '2001:db8::6', datacenter: 'lab1', meta: { 'host-id': 'six' } };
  const metaSnap = createSnapshot({
    ...richCatalog(),
    nodes: [v6, ...nodes],
    services: [service({ service: 'six', node: 'six', port: 1 }), ...[v6, ...nodes].map((n) => service({ service: 'svc', node: n.name, port: 8080 }))],
    checks: [],
  }, 3);
  const resolve = (q: Query, dns: Partial<DnsConfig> = {}): Answer => {
    const r = resolveQuery(q, metaSnap, context(dns));
    assert.equal(r.kind, 'answer');
    return r.answer;
  };
  const hostIds = (rrs: readonly Rr[]): string[] => rrs.filter((rr) => rr.type === 'TXT').map((rr) => (rr.type === 'TXT' ? rr.data.join('') : '')).sort();
  const idsOfA = (rrs: readonly Rr[]): string[] => rrs.filter((rr) => rr.type === 'A').map((rr) => (rr.type === 'A' ? `host-id=m-${rr.address.split('.')[3]}` : '')).sort();

  it('plain UDP A: 3 A records and the meta TXT of exactly those 3 nodes', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = resolveQuery(buildQuery('svc.service.consul.', 'A', 'udp'), metaSnap, context({}, seed));
      assert.ok(r.kind === 'answer');
      assert.equal(r.answer.answer.length, 3);
      assert.deepEqual(hostIds(r.answer.additional), idsOfA(r.answer.answer), 'no TXT of a node the client was not given');
    }
  });
  it('udp_answer_limit 0: NODATA with the SOA and no meta at all', () => {
    const a = resolve(buildQuery('svc.service.consul.', 'A', 'udp'), { udpAnswerLimit: 0 });
    assert.deepEqual(a.answer, []);
    assert.deepEqual(a.authority.map((rr) => rr.type), ['SOA']);
    assert.deepEqual(a.additional, []);
  });
  it('ANY over plain UDP counts records: A and TXT of the kept instances only', () => {
    const a = resolve(buildQuery('svc.service.consul.', 'ANY', 'udp'), { udpAnswerLimit: 5 });
    assert.equal(a.answer.length, 5);
    const given = new Set(a.answer.flatMap((rr) => (rr.type === 'A' ? [`host-id=m-${rr.address.split('.')[3]}`] : rr.type === 'AAAA' ? ['host-id=six'] : [])));
    for (const id of hostIds(a.answer)) assert.ok(given.has(id), `${id} belongs to an address in the answer`);
    assert.ok(given.size >= 2, 'records are counted, so more than one instance is given');
    assert.deepEqual(a.additional, []);
  });
  it('uncut answers keep every instance\'s meta (EDNS 1232, TCP), as Consul does', () => {
    assert.equal(hostIds(resolve(buildQuery('svc.service.consul.', 'A', 'udp-edns')).additional).length, 11);
    assert.equal(hostIds(resolve(buildQuery('svc.service.consul.', 'A', 'tcp')).additional).length, 11);
    // Consul 1.2.4 gives the meta even in an AAAA NODATA (digs.txt, redis.connect.consul AAAA).
    const six = resolve(buildQuery('six.service.consul.', 'A', 'udp'));
    assert.deepEqual(six.answer, []);
    assert.deepEqual(hostIds(six.additional), ['host-id=six']);
  });
});
