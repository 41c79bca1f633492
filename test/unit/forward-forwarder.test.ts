// Forwarder against fake upstreams: relayed answers, the upstream query's shape, failover and reply matching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireMessage, WireName } from '../../src/dns/relay.js';
import { createForwarder } from '../../src/forward/forwarder.js';
import { buildClientQuery } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, quietLogger, rcode } from '../helpers/forward-setup.js';

const text = (n: WireName): string => `${n.map((l) => l.toString('latin1')).join('.')}.`;

test('answer: records, TTL, client ID and question case come back', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up]);
  const q = buildClientQuery({ name: 'WwW.Example.COM.', qtype: 1, id: 0x1234, edns: { udpSize: 1232, do: false } });
  const m = decode(await fwd.forward(q));
  assert.equal(m.id, 0x1234);
  assert.equal(rcode(m), 0);
  assert.equal(m.flags & 0x0080, 0x0080, 'RA');
  assert.equal(text(m.questions[0]?.name ?? []), 'WwW.Example.COM.');
  assert.deepEqual(m.answer.map((r) => [text(r.owner), r.type, r.ttl]), [['WwW.Example.COM.', 1, 300]]);
  assert.deepEqual(m.answer[0]?.rdata[0], { kind: 'bytes', bytes: Buffer.from([192, 0, 2, 1]) });
  assert.deepEqual(m.additional.map((r) => [r.type, r.klass]), [[41, 1232]], 'our OPT only');
});

test('a type dns2 cannot decode (65 HTTPS) passes through byte for byte', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const m = decode(await forwarderFor(t, [up]).forward(buildClientQuery({ name: 'svc.example.net.', qtype: 65 })));
  assert.equal(m.answer[0]?.type, 65);
  assert.deepEqual(m.answer[0]?.rdata, [{ kind: 'bytes', bytes: Buffer.from([1, 2, 3]) }]);
  assert.equal(m.additional.length, 0, 'no OPT for a client without EDNS');
});

test('upstream query: fresh ID and port, RD=1, client CD and DO, our OPT without the client cookie', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up]);
  const cookie = Buffer.from('000a00080102030405060708', 'hex');
  for (let i = 0; i < 4; i++) {
    const q = buildClientQuery({ name: 'a.example.', qtype: 1, id: 7, rd: false, cd: true, edns: { udpSize: 4096, do: true, options: cookie } });
    const m = decode(await fwd.forward(q));
    assert.equal(m.id, 7);
    assert.equal(m.flags & 0x0100, 0, 'client RD=0 echoed to the client');
    assert.equal(m.flags & 0x0010, 0x0010, 'CD echoed');
    assert.equal((m.additional[0]?.ttl ?? 0) & 0x8000, 0x8000, 'DO echoed');
  }
  assert.equal(up.queries.length, 4);
  for (const sent of up.queries) {
    assert.equal(sent.rd, true, 'RD=1 even though the client sent RD=0');
    assert.equal(sent.cd, true);
    assert.equal(sent.do, true);
    assert.equal(sent.hasOpt, true);
    assert.equal(sent.optOptions, 0, 'no client options are passed on');
    assert.equal(sent.raw.readUInt16BE(sent.raw.length - 8), 1232, 'our UDP size');
    assert.equal(sent.name, 'a.example.');
  }
  assert.ok(new Set(up.queries.map((s) => s.id)).size > 1, 'IDs are random per query, not the client\'s');
  assert.ok(new Set(up.queries.map((s) => s.sourcePort)).size > 1, 'a new source port per query');
});

test('servfail, refused: the next upstream answers; nxdomain is relayed as is', async (t) => {
  const [bad, refused, good] = await fakes(t, { behaviour: 'servfail' }, { behaviour: 'refused' }, { behaviour: 'answer' });
  assert.ok(bad && refused && good);
  const m = decode(await forwarderFor(t, [bad, refused, good]).forward(buildClientQuery({ name: 'x.example.', qtype: 1 })));
  assert.equal(rcode(m), 0);
  assert.equal(m.answer.length, 1);
  assert.deepEqual([bad.queries.length, refused.queries.length, good.queries.length], [1, 1, 1]);

  const [nx, after] = await fakes(t, { behaviour: 'nxdomain' }, { behaviour: 'answer' });
  assert.ok(nx && after);
  const n = decode(await forwarderFor(t, [nx, after]).forward(buildClientQuery({ name: 'nope.example.', qtype: 1 })));
  assert.equal(rcode(n), 3);
  assert.equal(after.queries.length, 0, 'NXDOMAIN is an answer, not a failure');
});

test('all upstreams refuse → SERVFAIL with RA, question and (for an EDNS client) our OPT', async (t) => {
  const ups = await fakes(t, { behaviour: 'refused' }, { behaviour: 'refused' });
  const fwd = forwarderFor(t, ups);
  const m = decode(await fwd.forward(buildClientQuery({ name: 'X.example.', qtype: 28, id: 99, edns: { udpSize: 1400, do: true } })));
  assert.equal(m.id, 99);
  assert.equal(rcode(m), 2);
  assert.equal(m.flags & 0x8080, 0x8080, 'QR and RA');
  assert.equal(text(m.questions[0]?.name ?? []), 'X.example.');
  assert.equal(m.answer.length + m.authority.length, 0);
  assert.deepEqual(m.additional.map((r) => [r.type, r.klass, r.ttl]), [[41, 1232, 0x8000]]);
  const plain = decode(await fwd.forward(buildClientQuery({ name: 'X.example.', qtype: 28 })));
  assert.equal(plain.additional.length, 0);
  assert.ok(ups.every((u) => u.queries.length === 2));
});

test('wrong-id and wrong-question replies are ignored; the good reply is relayed', async (t) => {
  for (const behaviour of ['wrong-id', 'wrong-question'] as const) {
    const [wrong, good] = await fakes(t, { behaviour }, { behaviour: 'answer', answers: (n) => [`${n} 60 IN A 192.0.2.44`] });
    assert.ok(wrong && good);
    const fwd = forwarderFor(t, [wrong, good], { timeoutMs: 300 });
    const m = decode(await fwd.forward(buildClientQuery({ name: 'm.example.', qtype: 1 })));
    assert.equal(rcode(m), 0, behaviour);
    assert.deepEqual(m.answer[0]?.rdata[0], { kind: 'bytes', bytes: Buffer.from([192, 0, 2, 44]) }, behaviour);
    assert.equal(wrong.queries.length, 1);
  }
  const [twice, unused] = await fakes(t, { behaviour: 'wrong-then-right' }, { behaviour: 'answer' });
  assert.ok(twice && unused);
  const m = decode(await forwarderFor(t, [twice, unused]).forward(buildClientQuery({ name: 'w.example.', qtype: 1, id: 5 })));
  assert.equal(m.id, 5);
  assert.equal(m.answer.length, 1);
  assert.equal(unused.queries.length, 0, 'the right reply after a wrong one is taken from the same upstream');
});

test('records owned inside our zones never reach the client', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', injectInZone: true });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { zones: ['consul.', 'alt.example.'] });
  const m = decode(await fwd.forward(buildClientQuery({ name: 'ok.example.', qtype: 1 })));
  assert.deepEqual(m.answer.map((r) => text(r.owner)), ['ok.example.']);
  assert.equal(m.additional.length, 0);
});

test('an IPv6 upstream on ::1 works', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', address: '::1' });
  assert.ok(up);
  const m = decode(await forwarderFor(t, [up]).forward(buildClientQuery({ name: 'six.example.', qtype: 28 })));
  assert.deepEqual(m.answer[0]?.rdata[0], { kind: 'bytes', bytes: Buffer.from('20010db8000000000000000000000001', 'hex') });
});

test('an upstream whose port is closed fails fast and the next one answers', async (t) => {
  const [gone, good] = await fakes(t, { behaviour: 'answer' }, { behaviour: 'answer' });
  assert.ok(gone && good);
  const dead = { address: gone.address, port: gone.port };
  await gone.close();
  const fwd = createForwarder({
    upstreams: [dead, { address: good.address, port: good.port }], timeoutMs: 3000, totalBudgetMs: 4000,
    strategy: 'sequential', zones: ['consul.'], udpPayloadSize: 1232, logger: quietLogger(),
  });
  t.after(() => fwd.close());
  const m = decode(await fwd.forward(buildClientQuery({ name: 'r.example.', qtype: 1 })));
  assert.equal(rcode(m), 0);
  assert.equal(good.queries.length, 1);
});
