// Forwarder transport and policy: TC → TCP, TCP clients, timeouts and budget, close(), order, warn logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { WireMessage } from '../../src/dns/relay.js';
import { buildClientQuery } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, rcode } from '../helpers/forward-setup.js';

interface LogLine { level: number; msg: string; [k: string]: unknown }

function logSink(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const tc = (m: WireMessage): boolean => (m.flags & 0x0200) !== 0;

test('truncated UDP reply → retried over TCP; the full answer when it fits the client', async (t) => {
  const [up] = await fakes(t, { behaviour: 'truncate', bigAnswerCount: 20 });
  assert.ok(up);
  const m = decode(await forwarderFor(t, [up]).forward(buildClientQuery({ name: 'big.example.', qtype: 1, edns: { udpSize: 1232, do: false } })));
  assert.equal(tc(m), false);
  assert.equal(m.answer.length, 20);
  assert.deepEqual(up.queries.map((q) => q.proto), ['udp', 'tcp']);
});

test('truncated and too big for the UDP client → whole records that fit, TC=1; a TCP client gets all', async (t) => {
  const [up] = await fakes(t, { behaviour: 'truncate', bigAnswerCount: 100 });
  assert.ok(up);
  const fwd = forwarderFor(t, [up]);
  const bytes = await fwd.forward(buildClientQuery({ name: 'big.example.', qtype: 1 }));
  assert.ok(bytes.length <= 512);
  const m = decode(bytes);
  assert.equal(tc(m), true);
  assert.ok(m.answer.length > 0 && m.answer.length < 100);

  const overTcp = decode(await fwd.forward(buildClientQuery({ name: 'big.example.', qtype: 1, proto: 'tcp' })));
  assert.equal(tc(overTcp), false);
  assert.equal(overTcp.answer.length, 100);
  assert.deepEqual(up.queries.map((q) => q.proto), ['udp', 'tcp', 'tcp'], 'a TCP client is forwarded over TCP from the start');
});

test('TCP client: failover works over TCP too', async (t) => {
  const [bad, good] = await fakes(t, { behaviour: 'servfail' }, { behaviour: 'answer' });
  assert.ok(bad && good);
  const m = decode(await forwarderFor(t, [bad, good]).forward(buildClientQuery({ name: 't.example.', qtype: 16, proto: 'tcp' })));
  assert.equal(rcode(m), 0);
  assert.equal(m.answer[0]?.type, 16);
  assert.deepEqual([bad.queries[0]?.proto, good.queries[0]?.proto], ['tcp', 'tcp']);
});

test('two silent upstreams → SERVFAIL after about one timeout each, well under 5 s', async (t) => {
  const ups = await fakes(t, { behaviour: 'silent' }, { behaviour: 'silent' });
  const fwd = forwarderFor(t, ups, { timeoutMs: 300 });
  const started = Date.now();
  const m = decode(await fwd.forward(buildClientQuery({ name: 's.example.', qtype: 1, id: 321 })));
  const elapsed = Date.now() - started;
  assert.equal(m.id, 321);
  assert.equal(rcode(m), 2);
  assert.equal(m.flags & 0x0080, 0x0080, 'RA');
  assert.ok(ups.every((u) => u.queries.length === 1), 'both were asked');
  assert.ok(elapsed >= 550 && elapsed < 4000, `elapsed ${elapsed} ms`);
});

test('a silent TCP upstream is bounded by the timeout as well', async (t) => {
  const [up] = await fakes(t, { behaviour: 'silent' });
  assert.ok(up);
  const m = decode(await forwarderFor(t, [up], { timeoutMs: 200 }).forward(buildClientQuery({ name: 's.example.', qtype: 1, proto: 'tcp' })));
  assert.equal(rcode(m), 2);
  assert.equal(up.queries[0]?.proto, 'tcp');
});

test('the total budget cuts a long per-try timeout short', async (t) => {
  const ups = await fakes(t, { behaviour: 'silent' }, { behaviour: 'answer' });
  const fwd = forwarderFor(t, ups, { timeoutMs: 3000, totalBudgetMs: 300 });
  const started = Date.now();
  const m = decode(await fwd.forward(buildClientQuery({ name: 'b.example.', qtype: 1 })));
  assert.equal(rcode(m), 2);
  assert.ok(Date.now() - started < 2500, 'SERVFAIL came from the budget, not the 3 s try');
  assert.equal(ups[1]?.queries.length, 0, 'no time was left for the second upstream');
});

test('close() settles pending forwards with SERVFAIL and later forwards too', async (t) => {
  const [up] = await fakes(t, { behaviour: 'silent' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { timeoutMs: 3000, totalBudgetMs: 3500 });
  const pending = [1, 2, 3].map((id) => fwd.forward(buildClientQuery({ name: 'p.example.', qtype: 1, id })));
  const tcpPending = fwd.forward(buildClientQuery({ name: 'p.example.', qtype: 1, id: 4, proto: 'tcp' }));
  const deadline = Date.now() + 2000;
  while (up.queries.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(up.queries.length, 4);
  const started = Date.now();
  await fwd.close();
  const replies = (await Promise.all([...pending, tcpPending])).map(decode);
  assert.deepEqual(replies.map((m) => [m.id, rcode(m)]), [[1, 2], [2, 2], [3, 2], [4, 2]]);
  assert.ok(Date.now() - started < 2500, 'close() did not wait for the 3 s timeout');
  assert.equal(rcode(decode(await fwd.forward(buildClientQuery({ name: 'p.example.', qtype: 1 })))), 2);
  assert.equal(up.queries.length, 4, 'nothing is sent after close()');
});

test('sequential always asks the first upstream first; random spreads over the upstreams', async (t) => {
  const ups = await fakes(t, { behaviour: 'answer' }, { behaviour: 'answer' });
  const seq = forwarderFor(t, ups);
  for (let i = 0; i < 10; i++) await seq.forward(buildClientQuery({ name: `q${i}.example.`, qtype: 1 }));
  assert.deepEqual(ups.map((u) => u.queries.length), [10, 0]);

  const rnd = forwarderFor(t, ups, { strategy: 'random' });
  for (let i = 0; i < 40; i++) await rnd.forward(buildClientQuery({ name: `r${i}.example.`, qtype: 1 }));
  const [first = 0, second = 0] = ups.map((u) => u.queries.length);
  assert.equal(first + second, 50);
  assert.ok(first > 10 && second > 0, `random: ${first - 10} / ${second}`);
});

test('timeouts are logged at warn once per upstream per interval; each forward at debug', async (t) => {
  const [up] = await fakes(t, { behaviour: 'silent' });
  assert.ok(up);
  const sink = logSink();
  const fwd = forwarderFor(t, [up], { timeoutMs: 100, logger: sink.logger });
  for (let i = 0; i < 3; i++) await fwd.forward(buildClientQuery({ name: 'l.example.', qtype: 1 }));
  const warns = sink.lines.filter((l) => l.level === 40);
  assert.equal(warns.length, 1);
  assert.equal(warns[0]?.msg, 'upstream timed out');
  assert.equal(warns[0]?.['upstream'], `127.0.0.1#${up.port}`);
  assert.equal(sink.lines.filter((l) => l.level >= 30 && l.level !== 40).length, 0, 'nothing per query at info');
  assert.equal(sink.lines.filter((l) => l.msg === 'every upstream try failed').length, 3);
});
