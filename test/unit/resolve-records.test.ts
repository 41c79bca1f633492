// Record details: RFC 1464 TXT, service_ttl rules, alias chasing depth, meta TXT placement, weights.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput } from '../../src/catalog/types.js';
import type { DnsConfig } from '../../src/config/types.js';
import type { Answer } from '../../src/dns/records.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import { serviceTtl } from '../../src/resolve/ttl.js';
import { buildMetaTxt, encodeRfc1464 } from '../../src/resolve/txt.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, check, defaultDnsConfig, service, toResolveContext } from '../helpers/reference-catalog.js';

describe('RFC 1464 (Consul TestEncodeKVasRFC1464)', () => {
  const table: readonly (readonly [string, string, string])[] = [
    ['a', 'b', 'a=b'],
    ['a=', 'b', 'a`==b'],
    ['a cat', 'trouble', 'a cat=trouble'],
    ['a cat ', 'trouble', 'a cat` =trouble'],
    ['  a cat  ', 'trouble', '` ` a cat` ` =trouble'],
    ['aaa `', 'cat', 'aaa ``=cat'],
    ['aaa ``', 'cat', 'aaa ````=cat'],
    ['aaa`` ', 'cat', 'aaa````` =cat'],
    ['k', 'v`al=ue', 'k=v``al=ue'],
  ];
  for (const [k, v, want] of table) it(`${JSON.stringify(k)}=${JSON.stringify(v)}`, () => assert.equal(encodeRfc1464(k, v), want));
  it('rfc1035- keys (any case) publish the raw value', () => {
    const txt = buildMetaTxt('n.', { 'RFC1035-Raw': 'a=b `c`', plain: 'x' }, 3);
    assert.deepEqual(txt.map(formatRr), ['n. 3 IN TXT "a=b `c`"', 'n. 3 IN TXT "plain=x"']);
  });
  it('text longer than 255 bytes is split into character-strings', () => {
    const [rr] = buildMetaTxt('n.', { k: 'é'.repeat(200) }, 0);
    assert.ok(rr && rr.data.length === 2);
    assert.ok(rr.data.every((s) => Buffer.byteLength(s) <= 255));
    assert.equal(rr.data.join(''), `k=${'é'.repeat(200)}`);
  });
});

describe('service_ttl', () => {
  const table = { 'd*': 42, db: 10, 'db*': 66, '*': 5 };
  for (const [name, want] of [['db', 10], ['dblb', 66], ['dk', 42], ['api', 5], ['DB', 10], ['d', 42]] as const) {
    it(`${name} → ${want}`, () => assert.equal(serviceTtl(name, table), want));
  }
  it('no matching key and no "*": 0', () => assert.equal(serviceTtl('api', { 'd*': 42 }), 0));
});

function catalog(): CatalogInput {
  const n = (name: string, address: string, meta: Record<string, string> = {}) => ({ name, address, datacenter: 'dc1', meta });
  return {
    datacenter: 'dc1',
    localNode: n('server', '127.0.0.1'),
    nodes: [n('m', '10.9.0.1', { 'a=b': 'x', zone: 'z1' }), n('w', '10.9.0.2'), n('selfnode', 'self.service.consul')],
    services: [
      service({ service: 'metasvc', node: 'm', port: 1 }),
      // a1 → a2 → a3 → 10.9.9.3 (3 names deep); b1 → b2 → b3 → b4 → 10.9.9.4 (4 deep).
      service({ service: 'a1', node: 'w', port: 1, address: 'a2.service.consul' }),
      service({ service: 'a2', node: 'w', port: 1, address: 'a3.service.consul' }),
      service({ service: 'a3', node: 'w', port: 1, address: '10.9.9.3' }),
      service({ service: 'b1', node: 'w', port: 1, address: 'b2.service.consul' }),
      service({ service: 'b2', node: 'w', port: 1, address: 'b3.service.consul' }),
      service({ service: 'b3', node: 'w', port: 1, address: 'b4.service.consul' }),
      service({ service: 'b4', node: 'w', port: 1, address: '10.9.9.4' }),
      // Consul's TestDNS_InifiniteRecursion: node and service both addressed by the name asked.
      service({ service: 'self', node: 'selfnode', port: 1, address: 'self.service.consul' }),
      // A hostname instance and an IP instance: the IP wins, no CNAME at all.
      service({ id: 'mix-1', service: 'mix', node: 'w', port: 1, address: 'elsewhere.example.' }),
      service({ id: 'mix-2', service: 'mix', node: 'm', port: 1 }),
      service({ id: 'wt-1', service: 'wt', node: 'w', port: 1, weights: { passing: 7, warning: 3 } }),
      service({ id: 'wt-2', service: 'wt', node: 'm', port: 2, weights: { passing: 7, warning: 3 } }),
    ],
    checks: [check({ id: 'wt-2-ttl', node: 'm', serviceId: 'wt-2', serviceName: 'wt', status: 'warning' })],
  };
}

function ask(name: string, qtype: string, dns: Partial<DnsConfig> = {}): Answer {
  const r = resolveQuery(buildQuery(name, qtype), createSnapshot(catalog(), 1), toResolveContext({ domain: 'consul.', recursors: false, dns: { ...defaultDnsConfig(), ...dns } }));
  assert.equal(r.kind, 'answer');
  return (r as { answer: Answer }).answer;
}

describe('aliases', () => {
  it('a chain three names deep is flattened onto the first target', () => {
    assert.deepEqual(ask('a1.service.consul.', 'A').answer.map(formatRr), [
      'a1.service.consul. 0 IN CNAME a2.service.consul.', 'a2.service.consul. 0 IN A 10.9.9.3',
    ]);
  });
  it('a chain four names deep stops at the depth limit with just the CNAME', () => {
    assert.deepEqual(ask('b1.service.consul.', 'A').answer.map(formatRr), ['b1.service.consul. 0 IN CNAME b2.service.consul.']);
  });
  it('a service and node both addressed by the name asked: just the CNAME', () => {
    assert.deepEqual(ask('self.service.consul.', 'A').answer.map(formatRr), ['self.service.consul. 0 IN CNAME self.service.consul.']);
  });
  it('an IP instance is preferred over a hostname instance (no CNAME mixed into A records)', () => {
    assert.deepEqual(ask('mix.service.consul.', 'A').answer.map(formatRr), ['mix.service.consul. 0 IN A 10.9.0.1']);
  });
  it('a CNAME question gets the alias without chased addresses', () => {
    assert.deepEqual(ask('a1.service.consul.', 'CNAME').answer.map(formatRr), ['a1.service.consul. 0 IN CNAME a2.service.consul.']);
  });
});

describe('node meta TXT placement', () => {
  const txt = ['m.node.dc1.consul. 0 IN TXT "a`=b=x"', 'm.node.dc1.consul. 0 IN TXT "zone=z1"'];
  it('SRV: TXT owned by the node target in Additional; a key with "=" is escaped', () => {
    const a = ask('metasvc.service.consul.', 'SRV');
    assert.deepEqual(a.additional.map(formatRr), ['m.node.dc1.consul. 0 IN A 10.9.0.1', ...txt]);
  });
  it('enable_additional_node_meta_txt = false keeps TXT out of Additional, not out of TXT answers', () => {
    const off = { enableAdditionalNodeMetaTxt: false };
    assert.deepEqual(ask('metasvc.service.consul.', 'SRV', off).additional.map(formatRr), ['m.node.dc1.consul. 0 IN A 10.9.0.1']);
    assert.deepEqual(ask('metasvc.service.consul.', 'A', off).additional, []);
    assert.deepEqual(ask('m.node.consul.', 'A', off).additional, []);
    assert.equal(ask('m.node.consul.', 'TXT', off).answer.length, 2);
    assert.equal(ask('metasvc.service.consul.', 'ANY', off).answer.length, 3);
  });
});

describe('weights', () => {
  it('passing instances get weights.passing, warning ones weights.warning', () => {
    const a = ask('wt.service.consul.', 'SRV');
    assert.deepEqual(a.answer.map(formatRr).sort(), [
      'wt.service.consul. 0 IN SRV 1 3 2 m.node.dc1.consul.', 'wt.service.consul. 0 IN SRV 1 7 1 w.node.dc1.consul.',
    ]);
  });
});
