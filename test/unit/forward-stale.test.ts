// Serve-stale (RFC 8767): an expired answer, up to maxStale old, with TTL 30 when no upstream answers; never otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createForwardCache } from '../../src/forward/cache.js';
import { parseWireMessage, toWireName } from '../../src/dns/relay.js';
import { buildClientQuery } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, rcode } from '../helpers/forward-setup.js';

const A = 1;
const cache = { size: 100, maxTtl: 3600, negativeTtl: 300 };
const serveStale = { maxStale: 3600, ttl: 30 };

function clock(): { now: () => number; advance(s: number): void } {
  let ms = 7_000_000;
  return { now: () => ms, advance: (s) => { ms += s * 1000; } };
}

const ttls = (m: ReturnType<typeof decode>): number[] =>
  [...m.answer, ...m.authority, ...m.additional].filter((r) => r.type !== 41).map((r) => r.ttl);

test('upstream gone after the answer expired: the stale answer is served with TTL 30, in the client\'s ID and case', async (t) => {
  const [up] = await fakes(t, {
    behaviour: 'answer', answers: (n) => [`${n} 10 IN A 192.0.2.5`], additional: () => ['extra.example. 10 IN A 192.0.2.6'],
  });
  assert.ok(up);
  const c = clock();
  const fwd = forwarderFor(t, [up], { cache: { ...cache, now: c.now }, serveStale, timeoutMs: 150 });
  const fresh = decode(await fwd.forward(buildClientQuery({ name: 'old.example.', qtype: A })));
  assert.deepEqual(ttls(fresh), [10, 10]);
  up.setBehaviour('silent');
  c.advance(5);
  assert.deepEqual(ttls(decode(await fwd.forward(buildClientQuery({ name: 'old.example.', qtype: A })))), [5, 5], 'fresh: counted down');
  assert.equal(up.queries.length, 1);
  c.advance(3000);
  for (const proto of ['udp', 'tcp'] as const) {
    const q = buildClientQuery({ name: 'OLD.example.', qtype: A, id: 0x3131, proto, edns: { udpSize: 1232, do: false } });
    const m = decode(await fwd.forward(q));
    assert.equal(rcode(m), 0);
    assert.equal(m.id, 0x3131);
    assert.equal(m.questions[0]?.name[0]?.toString(), 'OLD');
    assert.deepEqual(m.answer[0]?.rdata[0], { kind: 'bytes', bytes: Buffer.from([192, 0, 2, 5]) });
    assert.deepEqual(ttls(m), [30, 30], 'every TTL is the stale TTL');
  }
  assert.equal(up.queries.length, 3, 'the upstream was asked first each time');
});

test('past maxStale, or with serve-stale off: SERVFAIL', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', answers: (n) => [`${n} 10 IN A 192.0.2.5`] });
  assert.ok(up);
  const c = clock();
  const on = forwarderFor(t, [up], { cache: { ...cache, now: c.now }, serveStale: { maxStale: 60, ttl: 30 }, timeoutMs: 150 });
  const off = forwarderFor(t, [up], { cache: { ...cache, now: c.now }, timeoutMs: 150 });
  const q = () => buildClientQuery({ name: 'x.example.', qtype: A });
  await on.forward(q());
  await off.forward(q());
  up.setBehaviour('servfail');
  c.advance(11);
  assert.equal(rcode(decode(await on.forward(q()))), 0, 'stale within maxStale');
  assert.equal(rcode(decode(await off.forward(q()))), 2, 'serve-stale off');
  c.advance(60);
  assert.equal(rcode(decode(await on.forward(q()))), 2, 'more than maxStale past expiry');
});

test('nothing stale from a reply that was never cached (SERVFAIL), and a real answer wins over a stale one', async (t) => {
  const [up] = await fakes(t, { behaviour: 'servfail' });
  assert.ok(up);
  const c = clock();
  const fwd = forwarderFor(t, [up], { cache: { ...cache, now: c.now }, serveStale, timeoutMs: 150 });
  const q = (name: string) => buildClientQuery({ name, qtype: A });
  assert.equal(rcode(decode(await fwd.forward(q('sf.example.')))), 2);
  up.setBehaviour('silent');
  c.advance(1);
  assert.equal(rcode(decode(await fwd.forward(q('sf.example.')))), 2, 'a SERVFAIL never becomes a stale answer');
  up.setBehaviour('nxdomain');
  c.advance(1);
  assert.equal(rcode(decode(await fwd.forward(q('sf.example.')))), 3, 'a real answer wins over anything stale');
});

test('every upstream marked down: the stale answer comes at once, without asking anyone', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', answers: (n) => [`${n} 10 IN A 192.0.2.5`] });
  assert.ok(up);
  const c = clock();
  const fwd = forwarderFor(t, [up], {
    cache: { ...cache, now: c.now }, serveStale, timeoutMs: 150, now: c.now,
    health: { maxFailures: 1, probeIntervalMs: 60_000, maxProbeIntervalMs: 60_000 },
  });
  await fwd.forward(buildClientQuery({ name: 'kept.example.', qtype: A }));
  up.setBehaviour('silent');
  assert.equal(rcode(decode(await fwd.forward(buildClientQuery({ name: 'other.example.', qtype: A })))), 2);
  assert.equal(fwd.upstreamStates()[0]?.state, 'down');
  c.advance(20);
  const sent = up.queries.length;
  const m = decode(await fwd.forward(buildClientQuery({ name: 'kept.example.', qtype: A })));
  assert.equal(rcode(m), 0);
  assert.deepEqual(ttls(m), [30]);
  assert.equal(up.queries.length, sent, 'not asked: it is down');
});

test('stale entries stay bounded by the cache size: the least recently used go first', async () => {
  const c = clock();
  const fc = createForwardCache({ size: 2, maxTtl: 3600, negativeTtl: 300, maxStale: 3600, now: c.now, zones: [toWireName('consul.')], udpPayloadSize: 1232 });
  const client = (name: string) => {
    const q = buildClientQuery({ name, qtype: A });
    return { key: name, client: { id: 1, rd: true, cd: false, question: q.raw.subarray(12, q.questionEnd) } };
  };
  const reply = (name: string) => {
    const q = buildClientQuery({ name, qtype: A });
    const header = Buffer.from(q.raw.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 6);
    const rr = Buffer.from('c00c000100010000000a0004c0000205', 'hex');
    rr.writeUInt32BE(10, 6);
    const msg = parseWireMessage(Buffer.concat([header, q.raw.subarray(12, q.questionEnd), rr]));
    assert.ok(msg);
    return msg;
  };
  for (const n of ['a.example.', 'b.example.']) assert.ok(fc.store(n, reply(n), client(n).client));
  c.advance(20);
  assert.equal(fc.lookup('a.example.', client('a.example.').client, 512), undefined, 'expired: no fresh hit');
  assert.ok(fc.lookupStale('a.example.', client('a.example.').client, 512, 30), 'but kept for serve-stale');
  assert.equal(fc.entries, 2);
  assert.ok(fc.store('c.example.', reply('c.example.'), client('c.example.').client));
  assert.equal(fc.entries, 2, 'still bounded');
  assert.equal(fc.lookupStale('b.example.', client('b.example.').client, 512, 30), undefined, 'b was least recently used');
  assert.ok(fc.lookupStale('a.example.', client('a.example.').client, 512, 30));
  c.advance(3600);
  assert.equal(fc.lookupStale('a.example.', client('a.example.').client, 512, 30), undefined, 'dropped past maxStale');
  assert.equal(fc.entries, 1);
});
