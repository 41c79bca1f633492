// Forwarder limits: the in-flight cap (SERVFAIL at once, no socket, warn rate-limited) and no listener warnings.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildClientQuery, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { decode, forwarderFor, rcode } from '../helpers/forward-setup.js';
import { createLogSink } from '../helpers/log-sink.js';

async function silentFake(t: TestContext): Promise<FakeUpstream> {
  const up = await startFakeUpstream({ behaviour: 'silent' });
  t.after(() => up.close());
  return up;
}

/** Waits (bounded) until the fake has seen `count` queries. */
async function untilQueries(up: FakeUpstream, count: number): Promise<void> {
  for (let i = 0; i < 200 && up.queries.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(up.queries.length, count, `the upstream saw ${count} queries`);
}

test('maxInFlight 4: the 5th concurrent forward is SERVFAIL at once and never reaches the upstream', async (t) => {
  const up = await silentFake(t);
  const sink = createLogSink('debug');
  const fwd = forwarderFor(t, [up], { maxInFlight: 4, timeoutMs: 400, totalBudgetMs: 400, logger: sink.logger });
  const settled: number[] = [];
  const first = [1, 2, 3, 4].map((id) => Promise.resolve(fwd.forward(buildClientQuery({ name: `f${id}.example.`, qtype: 1, id })))
    .then((b) => { settled.push(id); return b; }));
  await untilQueries(up, 4);

  const fifth = decode(await fwd.forward(buildClientQuery({ name: 'f5.example.', qtype: 1, id: 5, edns: { udpSize: 1232, do: false } })));
  assert.deepEqual(settled, [], 'answered while the first four still wait on the upstream');
  assert.equal(fifth.id, 5);
  assert.equal(rcode(fifth), 2, 'SERVFAIL');
  assert.equal(fifth.flags & 0x8080, 0x8080, 'QR and RA');
  assert.deepEqual(fifth.additional.map((r) => r.type), [41], 'our OPT for an EDNS client');
  const sixth = decode(await fwd.forward(buildClientQuery({ name: 'f6.example.', qtype: 1, id: 6 })));
  assert.equal(rcode(sixth), 2);

  const replies = (await Promise.all(first)).map(decode);
  assert.deepEqual(replies.map((m) => [m.id, rcode(m)]), [[1, 2], [2, 2], [3, 2], [4, 2]], 'the first four time out as usual');
  assert.deepEqual(up.queries.map((q) => q.name).sort(), ['f1.example.', 'f2.example.', 'f3.example.', 'f4.example.'],
    'no query was sent for the refused forwards');

  const warns = sink.lines.filter((l) => l['level'] === 40 && l['msg'] === 'too many forwards in flight: SERVFAIL');
  assert.equal(warns.length, 1, 'one warning per interval, not one per refused query');
  assert.equal(warns[0]?.['maxInFlight'], 4);

  // The slots are free again once the first four settled.
  const again = fwd.forward(buildClientQuery({ name: 'f7.example.', qtype: 1, id: 7 }));
  await untilQueries(up, 5);
  assert.equal(rcode(decode(await again)), 2);
});

test('a bad maxInFlight is refused at creation', async (t) => {
  const up = await silentFake(t);
  for (const bad of [0, -1, 1.5]) assert.throws(() => forwarderFor(t, [up], { maxInFlight: bad }), RangeError);
});

test('20 concurrent forwards print no MaxListenersExceededWarning', async (t) => {
  const up = await silentFake(t);
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  t.after(() => { process.off('warning', onWarning); });
  const fwd = forwarderFor(t, [up], { timeoutMs: 300, totalBudgetMs: 300 });
  const pending = Array.from({ length: 20 }, (_, i) => fwd.forward(buildClientQuery({ name: `w${i}.example.`, qtype: 1 })));
  await untilQueries(up, 20);
  const replies = (await Promise.all(pending)).map(decode);
  assert.ok(replies.every((m) => rcode(m) === 2));
  // Process warnings are emitted on a later tick.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
});
