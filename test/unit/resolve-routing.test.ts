// Routing before any lookup: class, zone transfers, out-of-zone and PTR forwarding, apex records, index-only access.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { Snapshot } from '../../src/catalog/types.js';
import { encodeAnswer } from '../../src/dns/codec.js';
import { DnsClass, Rcode } from '../../src/dns/records.js';
import type { Answer } from '../../src/dns/records.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import type { Resolution, ResolveContext } from '../../src/resolve/types.js';
import { richCases } from '../helpers/dns-cases.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, referenceCatalog, toResolveContext } from '../helpers/reference-catalog.js';
import { richCatalog, richContext } from '../helpers/rich-catalog.js';

const snapshot = createSnapshot(richCatalog(), 1);
const ctx = (over: Partial<ResolveContext> = {}): ResolveContext => ({ ...toResolveContext(richContext()), ...over });

function answered(r: Resolution): Answer {
  assert.equal(r.kind, 'answer');
  return (r as { answer: Answer }).answer;
}

describe('class', () => {
  for (const qclass of [DnsClass.CH, DnsClass.HS, DnsClass.NONE]) {
    for (const name of ['web.service.consul.', 'version.bind.', '1.0.0.10.in-addr.arpa.']) {
      it(`class ${qclass} ${name}: REFUSED, not authoritative, empty`, () => {
        const a = answered(resolveQuery(buildQuery(name, 'TXT', 'udp-edns', qclass), snapshot, ctx({ recursors: true })));
        assert.deepEqual(a, { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [] });
      });
    }
  }
  it('class ANY is served like IN', () => {
    const a = answered(resolveQuery(buildQuery('alpha.node.consul.', 'A', 'udp', DnsClass.ANY), snapshot, ctx()));
    assert.deepEqual(a.answer.map(formatRr), ['alpha.node.consul. 7 IN A 10.0.0.1']);
  });
});

describe('zone transfers', () => {
  for (const name of ['consul.', 'web.service.consul.', 'alt.example.', '10.in-addr.arpa.']) {
    for (const qtype of ['AXFR', 'IXFR']) {
      it(`${qtype} ${name}: NOTIMP, empty`, () => {
        const a = answered(resolveQuery(buildQuery(name, qtype, 'tcp'), snapshot, ctx()));
        assert.equal(a.rcode, Rcode.NOTIMP);
        assert.equal(a.answer.length + a.authority.length + a.additional.length, 0);
      });
    }
  }
  it('AXFR outside our zones is forwarded or refused like any other name', () => {
    assert.equal(resolveQuery(buildQuery('example.com.', 'AXFR', 'tcp'), snapshot, ctx()).kind, 'refused');
    assert.equal(resolveQuery(buildQuery('example.com.', 'AXFR', 'tcp'), snapshot, ctx({ recursors: true })).kind, 'forward');
  });
});

describe('outside the zones', () => {
  for (const name of ['example.com.', 'xconsul.', 'consul.example.', '.', 'arpa.', 'in-addr.arpa.example.']) {
    it(`${name}: refused without recursors, forwarded with`, () => {
      assert.equal(resolveQuery(buildQuery(name, 'A'), snapshot, ctx()).kind, 'refused');
      assert.equal(resolveQuery(buildQuery(name, 'A'), snapshot, ctx({ recursors: true })).kind, 'forward');
    });
  }
  it('in-zone misses are never forwarded', () => {
    const a = answered(resolveQuery(buildQuery('nosuch.service.consul.', 'A'), snapshot, ctx({ recursors: true })));
    assert.equal(a.rcode, Rcode.NXDOMAIN);
  });
});

describe('PTR', () => {
  const bad = ['9.9.9.10.in-addr.arpa.', '0.0.10.in-addr.arpa.', '256.0.0.10.in-addr.arpa.', '01.0.0.10.in-addr.arpa.',
    'in-addr.arpa.', 'x.0.0.10.in-addr.arpa.', '1.ip6.arpa.'];
  for (const name of bad) {
    it(`${name}: forwarded with recursors, NXDOMAIN + SOA of the domain without`, () => {
      assert.equal(resolveQuery(buildQuery(name, 'PTR'), snapshot, ctx({ recursors: true })).kind, 'forward');
      const a = answered(resolveQuery(buildQuery(name, 'PTR'), snapshot, ctx()));
      assert.equal(a.rcode, Rcode.NXDOMAIN);
      assert.match(formatRr(a.authority[0]!), /^consul\. 60 IN SOA ns\.consul\. /);
    });
  }
  it('any qtype under the reverse zones gets the PTR; SOA adds the SOA in Authority', () => {
    const a = answered(resolveQuery(buildQuery('1.0.0.10.in-addr.arpa.', 'SOA'), snapshot, ctx()));
    assert.deepEqual(a.answer.map(formatRr), ['1.0.0.10.in-addr.arpa. 0 IN PTR alpha.node.lab1.consul.']);
    assert.equal(a.authority[0]?.type, 'SOA');
    const any = answered(resolveQuery(buildQuery('1.0.0.10.in-addr.arpa.', 'ANY'), snapshot, ctx()));
    assert.deepEqual(any.answer.map(formatRr), ['1.0.0.10.in-addr.arpa. 0 IN PTR alpha.node.lab1.consul.']);
    assert.equal(any.aa, true);
  });
  it('a node match wins over a service address match; names use the domain, not the alt domain', () => {
    const a = answered(resolveQuery(buildQuery('1.0.0.10.in-addr.arpa.', 'PTR'), snapshot, ctx({ domain: 'consul.', altDomain: 'alt.example.' })));
    assert.deepEqual(a.answer.map(formatRr), ['1.0.0.10.in-addr.arpa. 0 IN PTR alpha.node.lab1.consul.']);
  });
});

describe('apex', () => {
  it('SOA fields come from dns_config.soa, serial from the clock', () => {
    const c = ctx({ now: () => 1234567890, dns: { ...richContext().dns, soa: { refresh: 1, retry: 2, expire: 3, minTtl: 4 } } });
    const a = answered(resolveQuery(buildQuery('Consul.', 'SOA'), snapshot, c));
    assert.deepEqual(a.answer.map(formatRr), ['consul. 4 IN SOA ns.consul. hostmaster.consul. 1234567890 1 2 3 4']);
    const neg = answered(resolveQuery(buildQuery('nosuch.node.consul.', 'A'), snapshot, c));
    assert.equal(neg.authority[0]?.ttl, 4, 'the negative TTL is min_ttl');
  });
  for (const [what, name] of [['dotted', 'my.server'], ['over 63 octets', 'n'.repeat(64)]] as const) {
    it(`a local node name that is not a hostname label (${what}) gives an empty NS set, and the SOA still encodes`, () => {
      const input = referenceCatalog({ managedProxyPassing: false });
      const odd = createSnapshot({ ...input, localNode: { ...input.localNode, name } }, 1);
      const soa = answered(resolveQuery(buildQuery('consul.', 'SOA'), odd, ctx()));
      assert.equal(soa.answer.length, 1);
      assert.deepEqual([soa.authority, soa.additional], [[], []]);
      const ns = answered(resolveQuery(buildQuery('consul.', 'NS'), odd, ctx()));
      assert.deepEqual([ns.rcode, ns.answer, ns.additional], [Rcode.NOERROR, [], []]);
      assert.ok(encodeAnswer(buildQuery('consul.', 'SOA'), soa, { ra: false, compress: true, udpPayloadSize: 1232 }).length > 12);
    });
  }
  it('an IPv6 local node gets AAAA glue, and the NS target is lower-cased', () => {
    const input = referenceCatalog({ managedProxyPassing: false });
    const v6 = createSnapshot({ ...input, localNode: { ...input.localNode, name: 'Ref-Node', address: '::1' } }, 1);
    const a = answered(resolveQuery(buildQuery('consul.', 'NS'), v6, ctx()));
    assert.deepEqual(a.answer.map(formatRr), ['consul. 7 IN NS ref-node.node.dc1.consul.']);
    assert.deepEqual(a.additional.map(formatRr), ['ref-node.node.dc1.consul. 7 IN AAAA ::1']);
  });
  it('an unknown qtype number on a service: NODATA + SOA', () => {
    const a = answered(resolveQuery(buildQuery('web.service.consul.', '65280'), snapshot, ctx()));
    assert.deepEqual([a.rcode, a.answer.length, a.authority[0]?.type], [Rcode.NOERROR, 0, 'SOA']);
  });
});

describe('cost', () => {
  it('no lookup walks the whole catalog (nodes()/instances() are never called)', () => {
    const banned = new Set(['nodes', 'instances', 'checks']);
    const guarded: Snapshot = new Proxy(snapshot, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && banned.has(prop)) return () => assert.fail(`${prop}() called`);
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    for (const c of richCases) {
      for (const client of ['udp', 'tcp'] as const) resolveQuery(buildQuery(c.qname, c.qtype, client), guarded, ctx());
    }
  });
});
