// Per-upstream health in the forwarder: marked down after consecutive failures, skipped, probed back with back-off.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildClientQuery, type FakeUpstream } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, rcode } from '../helpers/forward-setup.js';
import { createLogSink } from '../helpers/log-sink.js';
import { waitUntil } from '../helpers/wait.js';
import type { DnsMetrics } from '../../src/metrics/types.js';
import { noopMetrics } from '../../src/metrics/types.js';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

function healthSink(): { metrics: DnsMetrics; marks: string[] } {
  const marks: string[] = [];
  return { marks, metrics: { ...noopMetrics, upstreamHealth: (u, up) => void marks.push(`${u} ${up ? 'up' : 'down'}`) } };
}

async function ask(fwd: ReturnType<typeof forwarderFor>, name: string) {
  return decode(await fwd.forward(buildClientQuery({ name, qtype: 1 })));
}

async function deadAndGood(t: TestContext) {
  const [dead, good] = await fakes(t, { behaviour: 'silent' }, { behaviour: 'answer', answers: (n) => [`${n} 300 IN A 192.0.2.2`] });
  assert.ok(dead && good);
  return { dead, good };
}

test('a dead upstream costs maxFailures timeouts, then is skipped: the next queries go straight to the other', async (t) => {
  const { dead, good } = await deadAndGood(t);
  const logs = createLogSink('debug');
  const { metrics, marks } = healthSink();
  const fwd = forwarderFor(t, [dead, good], {
    timeoutMs: 150, logger: logs.logger, metrics, health: { maxFailures: 2, probeIntervalMs: 60_000, maxProbeIntervalMs: 60_000 },
  });
  for (let i = 0; i < 8; i++) {
    const m = await ask(fwd, `n${i}.example.`);
    assert.equal(rcode(m), 0);
    assert.equal(m.answer.length, 1);
  }
  assert.equal(dead.queries.length, 2, 'only the two tries that marked it down');
  assert.equal(good.queries.length, 8);
  assert.deepEqual(fwd.upstreamStates().map((s) => s.state), ['down', 'up']);
  const downs = logs.lines.filter((l) => l['msg'] === 'upstream failed repeatedly: marked down, skipped until a probe succeeds');
  assert.equal(downs.length, 1, 'the state change is logged once');
  assert.equal(downs[0]?.['level'], 40);
  assert.equal(downs[0]?.['upstream'], `127.0.0.1#${dead.port}`);
  assert.deepEqual(marks, [`127.0.0.1#${dead.port} up`, `127.0.0.1#${good.port} up`, `127.0.0.1#${dead.port} down`]);
});

test('without health options every upstream is asked every time (today\'s behaviour)', async (t) => {
  const { dead, good } = await deadAndGood(t);
  const fwd = forwarderFor(t, [dead, good], { timeoutMs: 100 });
  for (let i = 0; i < 4; i++) assert.equal(rcode(await ask(fwd, `m${i}.example.`)), 0);
  assert.equal(dead.queries.length, 4);
});

test('a down upstream is probed beside real queries with back-off (doubling, capped), and a good probe marks it up', async (t) => {
  const [first, good] = await fakes(t, { behaviour: 'servfail' }, { behaviour: 'answer', answers: (n) => [`${n} 300 IN A 192.0.2.2`] });
  assert.ok(first && good);
  const flaky: FakeUpstream = first;
  const c = clock();
  const logs = createLogSink('debug');
  const fwd = forwarderFor(t, [flaky, good], {
    now: c.now, logger: logs.logger, health: { maxFailures: 1, probeIntervalMs: 1000, maxProbeIntervalMs: 4000 },
  });
  let n = 0;
  const next = () => ask(fwd, `p${n++}.example.`);
  const failedProbes = () => logs.lines.filter((l) => l['msg'] === 'probe of a down upstream failed').length;
  /** One real query; returns whether it sent a probe to `flaky`, after the probe (if any) has settled. */
  async function probed(): Promise<boolean> {
    const before = flaky.queries.length;
    const failed = failedProbes();
    assert.equal(rcode(await next()), 0, 'the client is answered by the good upstream either way');
    if (flaky.queries.length === before) return false;
    await waitUntil('the probe to settle', () => failedProbes() > failed || fwd.upstreamStates()[0]?.state === 'up', 5000);
    return true;
  }
  assert.equal(rcode(await next()), 0);
  assert.equal(flaky.queries.length, 1, 'the first try fails');
  assert.equal(fwd.upstreamStates()[0]?.state, 'down');
  assert.equal(await probed(), false);
  c.advance(999);
  assert.equal(await probed(), false, 'not before probeInterval');
  c.advance(1);
  assert.equal(await probed(), true, 'probed after probeInterval');
  assert.equal(await probed(), false, 'one probe at a time, then the doubled wait');
  c.advance(1999);
  assert.equal(await probed(), false);
  c.advance(1);
  assert.equal(await probed(), true, 'probed after 2 × probeInterval');
  c.advance(3999);
  assert.equal(await probed(), false);
  c.advance(1);
  assert.equal(await probed(), true, 'probed after 4 × probeInterval');
  c.advance(3999);
  assert.equal(await probed(), false);
  c.advance(1);
  flaky.setBehaviour('answer');
  assert.equal(await probed(), true, 'capped at maxProbeInterval, not 8 s');
  assert.equal(fwd.upstreamStates()[0]?.state, 'up');
  const ups = logs.lines.filter((l) => l['msg'] === 'upstream is answering again: marked up');
  assert.equal(ups.length, 1);
  assert.equal(ups[0]?.['level'], 30);
  const before = flaky.queries.length;
  await next();
  assert.equal(flaky.queries.length, before + 1, 'asked first again (sequential)');
});

test('every upstream down and no probe due: stale or SERVFAIL at once, nothing sent; a due probe is tried in the foreground', async (t) => {
  const [only] = await fakes(t, { behaviour: 'answer', answers: (n) => [`${n} 300 IN A 192.0.2.9`] });
  assert.ok(only);
  const c = clock();
  const fwd = forwarderFor(t, [only], {
    now: c.now, timeoutMs: 150, health: { maxFailures: 2, probeIntervalMs: 1000, maxProbeIntervalMs: 1000 },
  });
  only.setBehaviour('silent');
  for (let i = 0; i < 2; i++) assert.equal(rcode(await ask(fwd, `d${i}.example.`)), 2);
  assert.equal(fwd.upstreamStates()[0]?.state, 'down');
  const sent = only.queries.length;
  for (let i = 0; i < 5; i++) assert.equal(rcode(await ask(fwd, `e${i}.example.`)), 2);
  assert.equal(only.queries.length, sent, 'no query waits on an upstream known to be down');
  only.setBehaviour('answer');
  c.advance(1000);
  const m = await ask(fwd, 'back.example.');
  assert.equal(rcode(m), 0, 'the probe is the only try and the client waits for it');
  assert.equal(only.queries.length, sent + 1);
  assert.equal(fwd.upstreamStates()[0]?.state, 'up');
});

test('consecutive only: a success resets the count; one question rejected again and again counts once', async (t) => {
  const [up] = await fakes(t, { behaviour: 'servfail' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { health: { maxFailures: 2, probeIntervalMs: 60_000, maxProbeIntervalMs: 60_000 } });
  for (let i = 0; i < 6; i++) assert.equal(rcode(await ask(fwd, 'broken.example.')), 2);
  assert.equal(fwd.upstreamStates()[0]?.state, 'up', 'a client retrying one broken name does not take the resolver down');
  assert.equal(up.queries.length, 6);
  up.setBehaviour('answer');
  assert.equal(rcode(await ask(fwd, 'fine.example.')), 0);
  up.setBehaviour('servfail');
  assert.equal(rcode(await ask(fwd, 'other.example.')), 2);
  assert.equal(fwd.upstreamStates()[0]?.state, 'up', 'the success in between reset the count');
  assert.equal(rcode(await ask(fwd, 'third.example.')), 2);
  assert.equal(fwd.upstreamStates()[0]?.state, 'down', 'two different failures in a row');
});

test('a probe the budget left unsent is not lost: the next forward sends it', async (t) => {
  const [a, b] = await fakes(t, { behaviour: 'silent' }, { behaviour: 'silent' });
  assert.ok(a && b);
  const c = clock();
  const fwd = forwarderFor(t, [a, b], {
    now: c.now, timeoutMs: 150, totalBudgetMs: 150, health: { maxFailures: 1, probeIntervalMs: 1000, maxProbeIntervalMs: 1000 },
  });
  await ask(fwd, 'one.example.');
  await ask(fwd, 'two.example.');
  assert.deepEqual(fwd.upstreamStates().map((s) => s.state), ['down', 'down']);
  assert.deepEqual([a.queries.length, b.queries.length], [1, 1]);
  c.advance(1000);
  assert.equal(rcode(await ask(fwd, 'three.example.')), 2);
  assert.deepEqual([a.queries.length, b.queries.length], [2, 1], 'the budget covered one probe only');
  assert.equal(rcode(await ask(fwd, 'four.example.')), 2);
  assert.deepEqual([a.queries.length, b.queries.length], [2, 2], 'b\'s probe went out with the next forward');
});
