// Table tests for the query-name parser (consul-dns-semantics.md §2.1), including Consul's invalid list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RrType } from '../../src/dns/records.js';
import { parseName, type Lookup } from '../../src/resolve/parse-name.js';

const { SRV, A, ANY } = RrType;

const valid: readonly (readonly [string, number, Lookup])[] = [
  ['web.service.consul.', A, { kind: 'service', service: 'web' }],
  ['web.service.dc1.consul.', SRV, { kind: 'service', service: 'web', dc: 'dc1' }],
  ['primary.web.service.consul.', SRV, { kind: 'service', service: 'web', tag: 'primary' }],
  ['v1.2.web.service.consul.', SRV, { kind: 'service', service: 'web', tag: 'v1.2' }],
  ['a.b.c.web.service.dc1.consul.', A, { kind: 'service', service: 'web', tag: 'a.b.c', dc: 'dc1' }],
  ['_web._tcp.service.consul.', A, { kind: 'service', service: 'web' }],
  ['_web._primary.service.consul.', ANY, { kind: 'service', service: 'web', tag: 'primary' }],
  ['_web._tcp.consul.', SRV, { kind: 'service', service: 'web' }],
  ['_web._v2.dc1.consul.', SRV, { kind: 'service', service: 'web', tag: 'v2', dc: 'dc1' }],
  ['_web.service.consul.', SRV, { kind: 'service', service: '_web' }],
  // Three labels, but only one starts with "_": the plain tag form.
  ['x._web.service.consul.', SRV, { kind: 'service', service: '_web', tag: 'x' }],
  ['redis.connect.consul.', SRV, { kind: 'connect', service: 'redis' }],
  ['extra.label.redis.connect.consul.', SRV, { kind: 'connect', service: 'redis' }],
  ['redis.connect.dc2.consul.', A, { kind: 'connect', service: 'redis', dc: 'dc2' }],
  ['_redis._tcp.connect.consul.', SRV, { kind: 'connect', service: '_tcp' }],
  ['ref-node.node.consul.', A, { kind: 'node', node: 'ref-node' }],
  ['node.with.dots.node.dc1.consul.', A, { kind: 'node', node: 'node.with.dots', dc: 'dc1' }],
  ['some.query.we.like.query.consul.', SRV, { kind: 'query', query: 'some.query.we.like' }],
  ['redis-mesh.query.dc1.consul.', A, { kind: 'query', query: 'redis-mesh', dc: 'dc1' }],
  ['7f000001.addr.consul.', A, { kind: 'addr', ip: '127.0.0.1' }],
  ['7F000001.addr.dc1.consul.', SRV, { kind: 'addr', ip: '127.0.0.1', dc: 'dc1' }],
  ['2607002040050808000000000000200e.addr.consul.', A, { kind: 'addr', ip: '2607:20:4005:808::200e' }],
  ['00000000000000000000000000000001.addr.consul.', A, { kind: 'addr', ip: '::1' }],
  ['7f0001.addr.consul.', A, { kind: 'addr', ip: null }],
  ['web.service.alt.example.', A, { kind: 'service', service: 'web' }],
];

// Consul's TestDNS_InvalidQueries / TestDNS_NonExistingLookup and the capture.
const invalid: readonly (readonly [string, number])[] = [
  ['consul.', A],
  ['node.consul.', A],
  ['service.consul.', A],
  ['query.consul.', A],
  ['connect.consul.', SRV],
  ['nonexisting.consul.', A],
  ['foo.consul.', A],
  ['foo.node.dc1.extra.consul.', A],
  ['foo.service.dc1.extra.consul.', A],
  ['foo.query.dc1.extra.consul.', A],
  ['7f00000x.addr.consul.', A],
  ['7f00001.addr.consul.', A],
  ['x.y.addr.consul.', A],
  ['_web._primary.consul.', A],
  ['web.service.dc1.extra.consul.', SRV],
  ['node.dc1.consul.', A],
];

describe('parseName', () => {
  for (const [qname, qtype, want] of valid) {
    it(`${qname} (qtype ${qtype})`, () => {
      const zone = qname.endsWith('alt.example.') ? 'alt.example.' : 'consul.';
      assert.deepEqual(parseName(qname, zone, qtype), want);
    });
  }
  for (const [qname, qtype] of invalid) {
    it(`${qname} (qtype ${qtype}) is invalid`, () => {
      assert.equal(parseName(qname, 'consul.', qtype).kind, 'invalid');
    });
  }
  it('parses case-insensitively given the canonical (lower-case) qname', () => {
    assert.deepEqual(parseName('WEB.Service.DC1.Consul.'.toLowerCase(), 'consul.', A), { kind: 'service', service: 'web', dc: 'dc1' });
  });
  it('rejects names outside the zone', () => {
    assert.equal(parseName('web.service.example.com.', 'consul.', A).kind, 'invalid');
  });
});
