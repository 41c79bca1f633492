// recursion_allow: which client addresses may use forwarding, as sockets report them (v4, v6, IPv4-mapped, %zone).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RECURSION_ALLOW } from '../../src/config/build.js';
import { createRecursionAcl } from '../../src/guard/acl.js';

describe('recursion_allow ACL', () => {
  it('the defaults: loopback, RFC 1918, RFC 6598 and ULA in; public addresses out', () => {
    const acl = createRecursionAcl(DEFAULT_RECURSION_ALLOW);
    for (const a of ['127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1',
      '100.127.255.255', '::1', 'fd12:3456::1', 'fc00::1']) {
      assert.equal(acl.allows(a), true, `${a} is allowed`);
    }
    for (const a of ['203.0.113.9', '172.32.0.1', '172.15.255.255', '192.169.0.1', '100.128.0.1', '11.0.0.1', '2001:db8::1',
      'fe80::1', '::2', '0.0.0.0']) {
      assert.equal(acl.allows(a), false, `${a} is refused`);
    }
  });

  it('IPv4-mapped IPv6 (a dual-stack socket\'s view of an IPv4 client) matches the IPv4 ranges, dotted or hex', () => {
    const acl = createRecursionAcl(['10.0.0.0/8']);
    assert.equal(acl.allows('::ffff:10.1.2.3'), true);
    assert.equal(acl.allows('::ffff:0a01:0203'), true);
    assert.equal(acl.allows('::FFFF:10.1.2.3'), true);
    assert.equal(acl.allows('::ffff:11.1.2.3'), false);
    assert.equal(acl.allows('::ffff:b01:203'), false);
  });

  it('IPv6 prefixes, and a %zone suffix is ignored', () => {
    const acl = createRecursionAcl(['2001:db8:1::/48', 'fe80::/10']);
    assert.equal(acl.allows('2001:db8:1:ffff::1'), true);
    assert.equal(acl.allows('2001:db8:2::1'), false);
    assert.equal(acl.allows('fe80::1%eth0'), true);
    assert.equal(acl.allows('10.0.0.1'), false, 'an IPv6-only list allows no IPv4 client');
  });

  it('single hosts and exact prefix edges', () => {
    const acl = createRecursionAcl(['192.0.2.7/32', '198.51.100.0/25', '::1/128']);
    assert.equal(acl.allows('192.0.2.7'), true);
    assert.equal(acl.allows('192.0.2.8'), false);
    assert.equal(acl.allows('198.51.100.127'), true);
    assert.equal(acl.allows('198.51.100.128'), false);
    assert.equal(acl.allows('::1'), true);
    assert.equal(acl.allows('127.0.0.1'), false, 'IPv4 loopback is its own range');
  });

  it('an empty list allows nobody; 0.0.0.0/0 with ::/0 allows everybody', () => {
    const none = createRecursionAcl([]);
    for (const a of ['127.0.0.1', '::1', '10.0.0.1']) assert.equal(none.allows(a), false, a);
    const all = createRecursionAcl(['0.0.0.0/0', '::/0']);
    for (const a of ['203.0.113.9', '2001:db8::1', '::ffff:203.0.113.9']) assert.equal(all.allows(a), true, a);
    const v4only = createRecursionAcl(['0.0.0.0/0']);
    assert.equal(v4only.allows('203.0.113.9'), true);
    assert.equal(v4only.allows('2001:db8::1'), false);
  });

  it('text that is no address is refused, and decisions stay right past the cache bound', () => {
    const acl = createRecursionAcl(['10.0.0.0/8'], 4);
    assert.equal(acl.allows(''), false);
    assert.equal(acl.allows('localhost'), false);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        assert.equal(acl.allows(`10.0.0.${i}`), true);
        assert.equal(acl.allows(`11.0.0.${i}`), false);
      }
    }
  });

  it('a bad CIDR is a programming error (the config decoder rejects it first)', () => {
    assert.throws(() => createRecursionAcl(['10.0.0.0/33']), RangeError);
    assert.throws(() => createRecursionAcl(['nope/8']), RangeError);
  });
});
