// The forward cache on its own: lifetimes (TTLs, RFC 2308 negatives, caps), never-cache rules, countdown, keys, bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWireMessage, toWireName, type RelayClient, type WireMessage } from '../../src/dns/relay.js';
import { cacheKey, createForwardCache, type ForwardCache, type ForwardCacheOptions } from '../../src/forward/cache.js';
import { buildClientQuery, encodeRecord, type ClientQueryOptions } from '../helpers/fake-upstream.js';
import { decode } from '../helpers/forward-setup.js';

const NAME = 'www.example.com.';
const SOA_LINE = (ttl: number, minimum: number): string =>
  `example.com. ${ttl} IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 ${minimum}`;

interface ReplySpec {
  rcode?: number;
  tc?: boolean;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0])]);
}

/** An upstream reply to NAME/A as a recursor would send it, parsed as the forwarder would hold it. */
function upstreamReply(spec: ReplySpec, qtype = 1): WireMessage {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x1234, 0);
  header.writeUInt16BE(0x8180 | (spec.tc ? 0x0200 : 0) | (spec.rcode ?? 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(spec.answer?.length ?? 0, 6);
  header.writeUInt16BE(spec.authority?.length ?? 0, 8);
  header.writeUInt16BE(spec.additional?.length ?? 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  const records = [...spec.answer ?? [], ...spec.authority ?? [], ...spec.additional ?? []].map((l) => encodeRecord(l, NAME));
  const msg = parseWireMessage(Buffer.concat([header, encodeName(NAME), q, ...records]));
  assert.ok(msg);
  return msg;
}

function clientFor(o: Partial<ClientQueryOptions> = {}): { key: string; client: RelayClient } {
  const query = buildClientQuery({ name: NAME, qtype: 1, ...o });
  return {
    key: cacheKey(query),
    client: { id: query.id, rd: query.rd, cd: query.cd, question: query.raw.subarray(12, query.questionEnd),
      ...(query.edns ? { edns: query.edns } : {}) },
  };
}

function cacheWith(over: Partial<ForwardCacheOptions> = {}): { cache: ForwardCache; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  const cache = createForwardCache({
    size: 100, maxTtl: 3600, negativeTtl: 300, now: () => clock.ms, zones: [toWireName('consul.')],
    udpPayloadSize: 1232, ...over,
  });
  return { cache, clock };
}

const ttls = (bytes: Buffer): number[] => {
  const m = decode(bytes);
  return [...m.answer, ...m.authority, ...m.additional].filter((r) => r.type !== 41).map((r) => r.ttl);
};

test('a positive answer is served with TTLs counted down by whole seconds, and expires at its minimum TTL', () => {
  const { cache, clock } = cacheWith();
  const { key, client } = clientFor();
  const reply = upstreamReply({ answer: [`${NAME} 300 IN CNAME web.example.com.`, 'web.example.com. 60 IN A 192.0.2.7'] });
  assert.equal(cache.store(key, reply, client), true);
  assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [300, 60]);
  clock.ms += 10_999;
  assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [290, 50]);
  clock.ms = 1_000_000 + 59_999;
  assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [241, 1]);
  clock.ms = 1_000_000 + 60_000;
  assert.equal(cache.lookup(key, client, 512), undefined, 'past the minimum TTL the entry is a miss');
  assert.equal(cache.entries, 0);
});

test('maxTtl caps both how long an answer is kept and the TTL it is served with', () => {
  const { cache, clock } = cacheWith({ maxTtl: 100 });
  const { key, client } = clientFor();
  assert.equal(cache.store(key, upstreamReply({ answer: [`${NAME} 86400 IN A 192.0.2.1`] }), client), true);
  assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [100]);
  clock.ms += 99_000;
  assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [1]);
  clock.ms += 1000;
  assert.equal(cache.lookup(key, client, 512), undefined);
});

test('NXDOMAIN and NODATA live for min(SOA TTL, SOA MINIMUM), capped by negativeTtl (RFC 2308)', () => {
  const cases = [
    { rcode: 3, soa: SOA_LINE(900, 60), negativeTtl: 300, want: 60 },
    { rcode: 3, soa: SOA_LINE(45, 600), negativeTtl: 300, want: 45 },
    { rcode: 0, soa: SOA_LINE(900, 600), negativeTtl: 300, want: 300 },
    { rcode: 0, soa: SOA_LINE(3600, 3600), negativeTtl: 30, want: 30 },
  ];
  for (const c of cases) {
    const { cache, clock } = cacheWith({ negativeTtl: c.negativeTtl });
    const { key, client } = clientFor();
    assert.equal(cache.store(key, upstreamReply({ rcode: c.rcode, authority: [c.soa] }), client), true);
    const first = decode(cache.lookup(key, client, 512) ?? Buffer.alloc(0));
    assert.equal(first.flags & 0x0f, c.rcode);
    assert.deepEqual(first.authority.map((r) => r.ttl), [c.want], 'the SOA is served with the negative TTL');
    clock.ms += (c.want - 1) * 1000;
    assert.deepEqual(ttls(cache.lookup(key, client, 512) ?? Buffer.alloc(0)), [1]);
    clock.ms += 1000;
    assert.equal(cache.lookup(key, client, 512), undefined, `${JSON.stringify(c)} expires at ${c.want}s`);
  }
});

test('never cached: truncated, SERVFAIL, REFUSED, negatives without an SOA, TTL 0', () => {
  const { cache } = cacheWith();
  const { key, client } = clientFor();
  const never: [string, WireMessage][] = [
    ['truncated', upstreamReply({ tc: true, answer: [`${NAME} 300 IN A 192.0.2.1`] })],
    ['SERVFAIL', upstreamReply({ rcode: 2, authority: [SOA_LINE(300, 300)] })],
    ['REFUSED', upstreamReply({ rcode: 5 })],
    ['NODATA without SOA', upstreamReply({ rcode: 0 })],
    ['NXDOMAIN without SOA', upstreamReply({ rcode: 3 })],
    ['TTL 0', upstreamReply({ answer: [`${NAME} 0 IN A 192.0.2.1`] })],
    ['SOA TTL 0', upstreamReply({ rcode: 3, authority: [SOA_LINE(0, 300)] })],
  ];
  for (const [what, reply] of never) {
    assert.equal(cache.store(key, reply, client), false, what);
    assert.equal(cache.lookup(key, client, 512), undefined, what);
  }
  assert.equal(cache.entries, 0);
});

test('in-zone records are stripped before caching and do not shorten the lifetime', () => {
  const { cache, clock } = cacheWith();
  const { key, client } = clientFor();
  const reply = upstreamReply({ answer: [`${NAME} 300 IN A 192.0.2.1`, 'evil.consul. 1 IN A 192.0.2.66'] });
  assert.equal(cache.store(key, reply, client), true);
  clock.ms += 5000;
  const m = decode(cache.lookup(key, client, 512) ?? Buffer.alloc(0));
  assert.deepEqual(m.answer.map((r) => r.ttl), [295]);
});

test('a hit carries the client ID, RD and question case; DO and CD are keyed apart; names match case-insensitively', () => {
  const { cache } = cacheWith();
  const first = clientFor({ name: 'WWW.Example.COM.' });
  assert.equal(cache.store(first.key, upstreamReply({ answer: [`${NAME} 300 IN A 192.0.2.1`] }), first.client), true);
  const other = clientFor({ name: 'www.EXAMPLE.com.', id: 0x0bad, rd: false });
  assert.equal(other.key, first.key);
  const m = decode(cache.lookup(other.key, other.client, 512) ?? Buffer.alloc(0));
  assert.equal(m.id, 0x0bad);
  assert.equal(m.flags & 0x0100, 0, 'RD is the client\'s');
  assert.deepEqual(m.questions[0]?.name.map((l) => l.toString()), ['www', 'EXAMPLE', 'com']);
  for (const o of [{ cd: true }, { edns: { udpSize: 1232, do: true } }]) {
    const c = clientFor(o);
    assert.notEqual(c.key, first.key, JSON.stringify(o));
    assert.equal(cache.lookup(c.key, c.client, 1232), undefined, JSON.stringify(o));
  }
  const plainEdns = clientFor({ edns: { udpSize: 1232, do: false } });
  assert.equal(plainEdns.key, first.key, 'EDNS without DO shares the entry; only the OPT differs');
  const withOpt = decode(cache.lookup(plainEdns.key, plainEdns.client, 1232) ?? Buffer.alloc(0));
  assert.equal(withOpt.additional.filter((r) => r.type === 41).length, 1);
});

test('hit() serves a rendered client shape exactly as lookup() does, and leaves a new shape to lookup()', () => {
  const { cache, clock } = cacheWith();
  const { key, client } = clientFor();
  assert.equal(cache.store(key, upstreamReply({ answer: [`${NAME} 300 IN A 192.0.2.1`] }), client), true);
  const asked = buildClientQuery({ name: 'Www.Example.com.', qtype: 1, id: 0x7777, rd: false });
  assert.equal(cache.hit(key, asked, 512), undefined, 'no 512-byte plain render yet');
  const viaLookup = cache.lookup(key, clientFor({ name: 'Www.Example.com.', id: 0x7777, rd: false }).client, 512);
  clock.ms += 2500;
  const later = cache.lookup(key, clientFor({ name: 'Www.Example.com.', id: 0x7777, rd: false }).client, 512);
  assert.deepEqual(cache.hit(key, asked, 512), later, 'same bytes as lookup: ID, RD, case and TTL countdown');
  assert.notDeepEqual(viaLookup, later, 'the TTL counted down');
  assert.equal(cache.hit(key, buildClientQuery({ name: NAME, qtype: 1, edns: { udpSize: 1232, do: false } }), 1232), undefined,
    'an EDNS client is another shape');
  clock.ms += 300_000;
  assert.equal(cache.hit(key, asked, 512), undefined, 'expired');
});

test('a hit is fitted to the client: a 512-byte UDP client gets TC, a TCP client the whole answer', () => {
  const { cache } = cacheWith();
  const { key, client } = clientFor();
  const answer = Array.from({ length: 60 }, (_, i) => `${NAME} 300 IN A 192.0.2.${i + 1}`);
  assert.equal(cache.store(key, upstreamReply({ answer }), client), true);
  const small = decode(cache.lookup(key, client, 512) ?? Buffer.alloc(0));
  assert.notEqual(small.flags & 0x0200, 0);
  assert.ok(small.answer.length < 60);
  const big = decode(cache.lookup(key, client, 65535) ?? Buffer.alloc(0));
  assert.equal(big.flags & 0x0200, 0);
  assert.equal(big.answer.length, 60);
});

test('bounded by entries (least recently used goes first) and by bytes', () => {
  const { cache } = cacheWith({ size: 2 });
  const names = ['a.example.com.', 'b.example.com.', 'c.example.com.'];
  const keyed = names.map((name) => {
    const query = buildClientQuery({ name, qtype: 1 });
    return { key: cacheKey(query), client: { id: 1, rd: true, cd: false, question: query.raw.subarray(12, query.questionEnd) } };
  });
  const reply = upstreamReply({ answer: [`${NAME} 300 IN A 192.0.2.1`] });
  const [a, b, c] = keyed;
  assert.ok(a && b && c);
  cache.store(a.key, reply, a.client);
  cache.store(b.key, reply, b.client);
  assert.ok(cache.lookup(a.key, a.client, 512), 'a is now the most recently used');
  cache.store(c.key, reply, c.client);
  assert.equal(cache.entries, 2);
  assert.equal(cache.lookup(b.key, b.client, 512), undefined, 'b was least recently used');
  assert.ok(cache.lookup(a.key, a.client, 512));
  assert.ok(cache.lookup(c.key, c.client, 512));

  const tiny = cacheWith({ maxBytes: 1000 }).cache;
  for (const k of keyed) tiny.store(k.key, reply, k.client);
  assert.ok(tiny.bytes <= 1000);
  assert.ok(tiny.entries < 3, 'the byte bound evicts too');
  const huge = upstreamReply({ answer: Array.from({ length: 100 }, (_, i) => `${NAME} 300 IN A 192.0.2.${i + 1}`) });
  assert.equal(tiny.store(c.key, huge, c.client), false, 'an entry larger than the whole bound is not kept');
});
