// Forged upstream replies are never relayed or cached; out-of-bailiwick records are never cached for other names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildClientQuery, FORGED_ADDRESS, FORGERIES } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, rcode } from '../helpers/forward-setup.js';

const A = 1;
const cache = { size: 100, maxTtl: 3600, negativeTtl: 300 };
const REAL = '192.0.2.1';
const ip = (b: Buffer | undefined): string => [...(b ?? [])].join('.');
const addresses = (m: ReturnType<typeof decode>): string[] =>
  m.answer.map((r) => (r.rdata[0]?.kind === 'bytes' ? ip(r.rdata[0].bytes) : '?'));

/** Over TCP a forged source cannot exist inside the connection; every other class is sent on it. */
const cases = FORGERIES.flatMap((f) => (['udp', 'tcp'] as const).filter((p) => f !== 'wrong-source' || p === 'udp').map((proto) => ({ f, proto })));

for (const { f, proto } of cases) {
  test(`${proto} ${f}: the forgery is ignored, the real reply that follows is relayed and cached`, async (t) => {
    const [up] = await fakes(t, { behaviour: 'forge-then-right', forgery: f });
    assert.ok(up);
    const fwd = forwarderFor(t, [up], { cache });
    const m = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A, proto })));
    assert.equal(rcode(m), 0);
    assert.deepEqual(addresses(m), [REAL]);
    up.setBehaviour('silent');
    const again = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A, proto: 'udp' })));
    assert.deepEqual(addresses(again), [REAL], 'the cache holds the real answer');
    assert.equal(up.queries.length, 1, 'from the cache');
  });

  test(`${proto} ${f} only: SERVFAIL within the budget, and nothing cached`, async (t) => {
    const [up] = await fakes(t, { behaviour: 'forge-only', forgery: f });
    assert.ok(up);
    const fwd = forwarderFor(t, [up], { cache, timeoutMs: 200 });
    const m = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A, proto })));
    assert.equal(rcode(m), 2);
    assert.equal(m.answer.length, 0);
    up.setBehaviour('answer');
    const next = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A })));
    assert.deepEqual(addresses(next), [REAL]);
    assert.equal(up.queries.length, 2, 'asked again: the forgery was not cached');
  });
}

test('records owned by our zones are stripped before relaying and caching, and never answer for our names', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer', injectInZone: true });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache, zones: ['consul.', 'alt.example.'] });
  const text = (m: ReturnType<typeof decode>): string => JSON.stringify([...m.answer, ...m.additional].map((r) => r.owner.join('.')));
  const first = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A })));
  const hit = decode(await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A })));
  assert.equal(up.queries.length, 1);
  for (const m of [first, hit]) {
    assert.deepEqual(addresses(m), [REAL]);
    assert.ok(!text(m).includes('consul'), `no in-zone record in ${text(m)}`);
  }
});

test('an answer record for another name is not cached for that name: asking it goes upstream', async (t) => {
  const [up] = await fakes(t, {
    behaviour: 'answer',
    answers: (n) => (n === 'www.example.' ? [`${n} 300 IN A ${REAL}`, `evil.example. 300 IN A ${FORGED_ADDRESS}`] : [`${n} 300 IN A 192.0.2.99`]),
  });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { cache });
  await fwd.forward(buildClientQuery({ name: 'www.example.', qtype: A }));
  const evil = decode(await fwd.forward(buildClientQuery({ name: 'evil.example.', qtype: A })));
  assert.equal(up.queries.length, 2, 'evil.example. went upstream');
  assert.deepEqual(addresses(evil), ['192.0.2.99'], 'its own answer, not the one smuggled into www\'s reply');
  const again = decode(await fwd.forward(buildClientQuery({ name: 'evil.example.', qtype: A })));
  assert.deepEqual(addresses(again), ['192.0.2.99']);
  assert.equal(up.queries.length, 2);
});
