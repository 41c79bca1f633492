// The forwarder with its cache: hits relayed per client, TTLs counted down, never-cache rules, shared in-flight queries.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import type { ForwardCacheOptions } from '../../src/forward/cache.js';
import type { DnsMetrics } from '../../src/metrics/types.js';
import { buildClientQuery, encodeRecord, type ClientQueryOptions } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, rcode } from '../helpers/forward-setup.js';

const A = 1;
const NAME = 'www.example.com.';

function clock(): { ms: number; now: () => number } {
  const c = { ms: 5_000_000, now: () => c.ms };
  return c;
}

function cacheOpts(over: Partial<ForwardCacheOptions> = {}): ForwardCacheOptions {
  return { size: 1000, maxTtl: 3600, negativeTtl: 300, ...over };
}

const ask = (o: Partial<ClientQueryOptions> = {}) => buildClientQuery({ name: NAME, qtype: A, ...o });

/** A UDP-only recursor on loopback that answers every query NXDOMAIN or NODATA with the given SOA in authority. */
async function soaUpstream(t: TestContext, rcodeOut: number, soaLine: string): Promise<{ address: string; port: number; count: () => number }> {
  const sock = dgram.createSocket('udp4');
  let count = 0;
  sock.on('message', (msg, rinfo) => {
    count++;
    let end = 12;
    while ((msg[end] ?? 0) !== 0) end += 1 + (msg[end] ?? 0);
    const question = msg.subarray(12, end + 5);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | rcodeOut, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(1, 8);
    sock.send(Buffer.concat([header, question, encodeRecord(soaLine, '.')]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  return { address: '127.0.0.1', port: sock.address().port, count: () => count };
}

test('a hit is relayed with the client\'s ID and case, fitted to a 512-byte client with TC, and whole over TCP', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', bigAnswerCount: 60 });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
  const first = decode(await fwd.forward(ask({ proto: 'tcp', id: 1 })));
  assert.equal(first.answer.length, 60);
  assert.equal(up.queries.length, 1);

  const small = decode(await fwd.forward(ask({ name: 'WWW.example.COM.', id: 0x7777 })));
  assert.equal(up.queries.length, 1, 'answered from the cache');
  assert.equal(small.id, 0x7777);
  assert.deepEqual(small.questions[0]?.name.map((l) => l.toString()), ['WWW', 'example', 'COM']);
  assert.notEqual(small.flags & 0x0200, 0, 'TC for the 512-byte client');
  assert.ok(small.answer.length < 60);

  const tcp = decode(await fwd.forward(ask({ proto: 'tcp', id: 0x8888 })));
  assert.equal(tcp.id, 0x8888);
  assert.equal(tcp.answer.length, 60);
  assert.equal(tcp.flags & 0x0200, 0);
  assert.equal(up.queries.length, 1);
});

test('served TTLs count down with the clock, and an expired entry goes upstream again', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const c = clock();
  const fwd = forwarderFor(t, [up], { cache: cacheOpts({ now: c.now }) });
  assert.equal(decode(await fwd.forward(ask())).answer[0]?.ttl, 300);
  c.ms += 100_500;
  assert.equal(decode(await fwd.forward(ask())).answer[0]?.ttl, 200);
  assert.equal(up.queries.length, 1);
  c.ms += 200_000;
  assert.equal(decode(await fwd.forward(ask())).answer[0]?.ttl, 300, 'a fresh copy after expiry');
  assert.equal(up.queries.length, 2);
});

test('a truncated UDP reply is not cached, but the full TCP retry is', async (t) => {
  const [up] = await fakes(t, { behaviour: 'truncate', bigAnswerCount: 5 });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
  assert.equal(decode(await fwd.forward(ask({ edns: { udpSize: 1232, do: false } }))).answer.length, 5);
  assert.deepEqual(up.queries.map((q) => q.proto), ['udp', 'tcp']);
  const again = decode(await fwd.forward(ask({ edns: { udpSize: 1232, do: false } })));
  assert.equal(again.answer.length, 5);
  assert.equal(again.flags & 0x0200, 0);
  assert.equal(up.queries.length, 2);
});

test('SERVFAIL, REFUSED, and negatives without an SOA always go upstream', async (t) => {
  for (const behaviour of ['servfail', 'refused', 'nxdomain'] as const) {
    const [up] = await fakes(t, { behaviour });
    assert.ok(up);
    const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
    for (let i = 0; i < 2; i++) await fwd.forward(ask());
    assert.equal(up.queries.length, 2, behaviour);
  }
  const [nodata] = await fakes(t, { behaviour: 'answer', answers: () => [] });
  assert.ok(nodata);
  const fwd = forwarderFor(t, [nodata], { cache: cacheOpts() });
  for (let i = 0; i < 2; i++) assert.equal(decode(await fwd.forward(ask())).answer.length, 0);
  assert.equal(nodata.queries.length, 2, 'NODATA without an SOA');
});

test('NXDOMAIN and NODATA are kept for the SOA minimum, capped by negativeTtl', async (t) => {
  const soa = 'example.com. 900 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60';
  for (const [code, negativeTtl, want] of [[3, 300, 60], [0, 20, 20]] as const) {
    const up = await soaUpstream(t, code, soa);
    const c = clock();
    const fwd = forwarderFor(t, [], { upstreams: [up], cache: cacheOpts({ negativeTtl, now: c.now }) });
    const first = decode(await fwd.forward(ask()));
    assert.equal(rcode(first), code);
    assert.deepEqual(first.authority.map((r) => r.ttl), [want]);
    c.ms += (want - 1) * 1000;
    const later = decode(await fwd.forward(ask({ id: 99 })));
    assert.equal(rcode(later), code);
    assert.deepEqual(later.authority.map((r) => r.ttl), [1]);
    assert.equal(up.count(), 1, `rcode ${code} cached`);
    c.ms += 1000;
    await fwd.forward(ask());
    assert.equal(up.count(), 2, `rcode ${code} expired after ${want}s`);
  }
});

test('identical queries in flight share one upstream query, even when the reply cannot be cached', async (t) => {
  for (const behaviour of ['answer', 'nxdomain'] as const) {
    const [up] = await fakes(t, { behaviour });
    assert.ok(up);
    const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
    const replies = await Promise.all([fwd.forward(ask({ id: 1 })), fwd.forward(ask({ id: 2, proto: 'tcp' })),
      fwd.forward(ask({ id: 3, name: 'Www.Example.Com.' }))]);
    assert.equal(up.queries.length, 1, behaviour);
    assert.deepEqual(replies.map((r) => decode(r).id), [1, 2, 3]);
    assert.equal(decode(replies[2] ?? Buffer.alloc(0)).questions[0]?.name[0]?.toString(), 'Www');
  }
});

test('with the cache off every query goes upstream', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache: false });
  for (let i = 0; i < 3; i++) await fwd.forward(ask());
  await Promise.all([fwd.forward(ask()), fwd.forward(ask())]);
  assert.equal(up.queries.length, 5);
});

test('DO and CD are keyed apart and reach the upstream', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
  const variants: Partial<ClientQueryOptions>[] = [{}, { cd: true }, { edns: { udpSize: 1232, do: true } },
    { cd: true, edns: { udpSize: 1232, do: true } }];
  for (const v of variants) await fwd.forward(ask(v));
  for (const v of variants) await fwd.forward(ask(v));
  assert.deepEqual(up.queries.map((q) => [q.cd, q.do]), [[false, false], [true, false], [false, true], [true, true]]);
});

test('metrics see hits, misses and upstream results', async (t) => {
  const seen = { hit: 0, miss: 0, upstream: [] as string[] };
  const metrics: DnsMetrics = {
    query: () => undefined, dropped: () => undefined, catalog: () => undefined, upstreamHealth: () => undefined,
    forwardCache: (o) => { seen[o]++; },
    upstream: (_u, result, seconds) => { assert.ok(seconds >= 0); seen.upstream.push(result); },
  };
  const [good, bad] = await fakes(t, { behaviour: 'answer' }, { behaviour: 'servfail' });
  assert.ok(good && bad);
  const fwd = forwarderFor(t, [bad, good], { cache: cacheOpts(), metrics });
  for (let i = 0; i < 3; i++) assert.equal(rcode(decode(await fwd.forward(ask()))), 0);
  assert.deepEqual(seen, { hit: 2, miss: 1, upstream: ['rejected', 'reply'] });
});

test('a hit is returned at once, not as a promise, so a cached forward waits on nothing', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache: cacheOpts() });
  const miss = fwd.forward(ask({ id: 1 }));
  assert.ok(!Buffer.isBuffer(miss), 'a miss goes upstream');
  await miss;
  const hit = fwd.forward(ask({ id: 2 }));
  assert.ok(Buffer.isBuffer(hit), 'a hit is the bytes themselves');
  assert.equal(decode(hit).id, 2);
});
