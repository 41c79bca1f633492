// The bench's own parts: dnsperf parsing, medians, the ceiling's byte-replay, the fast upstream, target checks.
// Not part of `npm test`; run with: node --import tsx --test test/bench/bench.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { askTcp, buildQuery, createUdpAsker, parseReplyHeader } from './dns-wire.js';
import { parseDnsperfOutput } from './dnsperf.js';
import { median, rotate, summarize } from './measure.js';
import { checkTargets } from './report.js';
import { FORWARD_TAIL } from './scenarios.js';
import { ROOT, shebangFlags, startCeiling, startUpstream } from './targets.js';
import type { PerfResult } from './dnsperf.js';

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SUMMARY = `[Status] Testing complete (time limit)

Statistics:

  Queries sent:         1000
  Queries completed:    990 (99.00%)
  Queries lost:         10 (1.00%)

  Response codes:       NOERROR 980 (98.99%), SERVFAIL 10 (1.01%)
  Average packet size:  request 38, response 68
  Run time (s):         2.004252
  Queries per second:   53501.256329

  Average Latency (s):  0.001845 (min 0.000041, max 0.006870)
`;

test('dnsperf output: summary fields, rcodes, and percentiles from the verbose lines', async (t) => {
  const dir = scratch(t);
  // 100 answers at 1..100 ms: p50 is the 50th, p99 the 99th.
  const verbose = Array.from({ length: 100 }, (_, i) => `> NOERROR redis.connect.consul A ${((i + 1) / 1000).toFixed(6)}`);
  const file = join(dir, 'out.txt');
  writeFileSync(file, `${verbose.join('\n')}\n> T redis.connect.consul A\n${SUMMARY}`);
  const r = await parseDnsperfOutput(file);
  assert.equal(r.sent, 1000);
  assert.equal(r.completed, 990);
  assert.equal(r.lost, 10);
  assert.equal(Math.round(r.qps), 53501);
  assert.deepEqual(r.rcodes, { NOERROR: 980, SERVFAIL: 10 });
  assert.equal(r.p50Ms, 50);
  assert.equal(r.p99Ms, 99);
  assert.equal(r.avgMs, 1.845);
});

const result = (qps: number, lost = 0): PerfResult => ({
  qps, sent: 100, completed: 100 - lost, lost, avgMs: 1, p50Ms: qps / 1000, p99Ms: 2, rcodes: { NOERROR: 100 - lost }, cpuUsPerQuery: 5, rssMiB: 50,
});

test('medians over rounds, lost summed, and rounds rotate the target order', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const s = summarize([result(100_000, 1), result(50_000), result(90_000, 2)]);
  assert.equal(s.qps, 90_000);
  assert.equal(s.lost, 3);
  assert.equal(s.rcodes['NOERROR'], 297);
  assert.deepEqual(rotate(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
  assert.deepEqual(rotate(['a', 'b', 'c'], 3), ['a', 'b', 'c']);
});

test('the ceiling replays recorded bytes with only the ID changed, over UDP and TCP', async (t) => {
  const dir = scratch(t);
  const q = buildQuery('redis.connect.consul', 'A');
  const reply = Buffer.concat([Buffer.from('000085000001000100000000', 'hex'), q.subarray(12), Buffer.from('c00c000100010000000000047f000001', 'hex')]);
  const tcpReply = Buffer.concat([reply, Buffer.from('00', 'hex')]); // distinguishable from the UDP bytes
  const table = { udp: [[q.subarray(12).toString('hex'), reply.toString('hex')]], tcp: [[q.subarray(12).toString('hex'), tcpReply.toString('hex')]], fallbackTail: FORWARD_TAIL };
  const ceiling = await startCeiling(dir, table, undefined, { name: 'redis.connect.consul', qtype: 'A' });
  t.after(() => ceiling.child.stop());

  const asker = await createUdpAsker(ceiling.port);
  t.after(() => asker.close());
  const got = await asker.ask(q, 2000);
  assert.ok(got);
  assert.deepEqual(got.subarray(2), reply.subarray(2));
  assert.notEqual(got.readUInt16BE(0), 0, 'the asker sets a non-zero ID and the reply carries it');

  const withId = Buffer.from(q);
  withId.writeUInt16BE(0xbeef, 0);
  const overTcp = await askTcp(ceiling.port, withId, 2000);
  assert.ok(overTcp);
  assert.equal(overTcp.readUInt16BE(0), 0xbeef);
  assert.deepEqual(overTcp.subarray(2), tcpReply.subarray(2));

  // A name it has no bytes for: its own question back with the forwarded answer's tail.
  const unknown = buildQuery('m-1.miss.example.com', 'A');
  const fb = await asker.ask(unknown, 2000);
  assert.ok(fb);
  assert.deepEqual(fb.subarray(12, unknown.length), unknown.subarray(12));
  assert.deepEqual(parseReplyHeader(fb), { id: fb.readUInt16BE(0), rcode: 0, tc: false, ancount: 1 });
});

test('the fast upstream answers A at once with 192.0.2.1, TTL 300, echoing ID and question', async (t) => {
  const up = await startUpstream(undefined);
  t.after(() => up.child.stop());
  const asker = await createUdpAsker(up.port);
  t.after(() => asker.close());
  const q = buildQuery('www1.Example.com', 'A');
  const r = await asker.ask(q, 2000);
  assert.ok(r);
  assert.equal(r.subarray(12, q.length).toString('latin1'), q.subarray(12).toString('latin1'));
  assert.equal(parseReplyHeader(r)?.ancount, 1);
  assert.equal(r.readUInt32BE(q.length + 6), 300);
  assert.deepEqual([...r.subarray(r.length - 4)], [192, 0, 2, 1]);
  const txt = await asker.ask(buildQuery('www1.example.com', 'TXT'), 2000);
  assert.equal(txt && parseReplyHeader(txt)?.ancount, 0, 'other types are NODATA');
});

test('targets: a ratio under its goal is a miss, and workers on 2 cores are not judged', () => {
  const summary = summarize([result(100)]);
  const rows = [
    { section: 'main' as const, scenario: 'connect-a', title: 'A', target: 'connect-dns', summary, ratio: 0.5 },
    { section: 'main' as const, scenario: 'forward-hit', title: 'F', target: 'connect-dns', summary, ratio: 0.9 },
  ];
  const checks = checkTargets({ rows, notes: [] }, undefined, { rows: [], scaling: 1.1 }, 2);
  assert.equal(checks.find((c) => c.name.startsWith('in-zone cache hit, redis.connect.consul A'))?.pass, false);
  assert.equal(checks.find((c) => c.name === 'forwarded, cache hit')?.pass, true);
  assert.equal(checks.find((c) => c.name.startsWith('--workers'))?.pass, undefined);
  assert.equal(checkTargets({ rows, notes: [] }, undefined, { rows: [], scaling: 1.1 }, 4).find((c) => c.name.startsWith('--workers'))?.pass, false);
});

test('the server starts with the node flags of the bin\'s own #! line, as a user running it gets them', (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'cdns-shebang-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, first: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `${first}\nconsole.log(1);\n`);
    return p;
  };
  assert.deepEqual(shebangFlags(file('a', '#!/usr/bin/env -S node --max-semi-space-size=1 --no-warnings')), ['--max-semi-space-size=1', '--no-warnings']);
  assert.deepEqual(shebangFlags(file('b', '#!/usr/bin/env node')), []);
  assert.ok(shebangFlags(join(ROOT, 'bin', 'connect-dns')).includes('--max-semi-space-size=1'));
});
