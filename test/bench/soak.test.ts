// The soak's own parts: the query mix and its expected rcodes, the verdicts, and its senders against the real server.
// Not part of `npm test`; run with: npm run build && node --import tsx --test test/bench/soak.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeMainConfig } from './catalogs.js';
import { parseDnsperfOutput } from './dnsperf.js';
import { BAD_KINDS, startBadSender } from './soak-bad.js';
import { intervalFor } from './soak-bench.js';
import { startApiChurn } from './soak-churn.js';
import { expectedRcodes, kindOf, mixLines, MIX_SHARES, type Kind } from './soak-mix.js';
import { soakPassed, soakVerdicts, type SoakInterval, type SoakResult } from './soak-report.js';
import { startConnectDns, startUpstream } from './targets.js';

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'soak-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the mix: shares per cycle, unique misses per prefix, and an expected rcode for every name', () => {
  const lines = mixLines('p', 2000);
  assert.equal(lines.length, 2000);
  const kinds: Partial<Record<Kind, number>> = {};
  for (const l of lines) {
    const k = kindOf(l.split(' ')[0] as string);
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  assert.equal(kinds['forward-miss'], (2000 / 20) * MIX_SHARES.forwardMiss);
  assert.equal(kinds['forward-hit'], (2000 / 20) * MIX_SHARES.forwardHit);
  assert.equal(kinds['nxdomain'], (2000 / 20) * MIX_SHARES.nxdomain);
  assert.equal((kinds['in-zone'] ?? 0) + (kinds['churned'] ?? 0), (2000 / 20) * MIX_SHARES.inZone);
  const misses = lines.filter((l) => l.includes('.miss.'));
  assert.equal(new Set(misses).size, misses.length, 'every miss name is unique');
  assert.ok(mixLines('q', 40).filter((l) => l.includes('.miss.')).every((l) => !misses.includes(l)), 'prefixes keep files apart');
  assert.deepEqual(expectedRcodes('nope3.service.consul'), ['NXDOMAIN']);
  assert.deepEqual(expectedRcodes('churn.service.consul'), ['NOERROR', 'NXDOMAIN']);
  assert.deepEqual(expectedRcodes('www3.example.com'), ['NOERROR']);
});

test('dnsperf output: every answer and every timeout reaches the sink', async (t) => {
  const file = join(scratch(t), 'out.txt');
  writeFileSync(file, '> NOERROR redis.connect.consul A 0.000200\n> T x-1.miss.example.com A\n> NXDOMAIN nope1.service.consul A 0.000300\n'
    + '  Queries sent:         3\n  Queries completed:    2 (66.67%)\n  Queries lost:         1 (33.33%)\n');
  const seen: string[] = [];
  const r = await parseDnsperfOutput(file, (rcode, name, qtype) => seen.push(`${rcode} ${name} ${qtype}`));
  assert.deepEqual(seen, ['NOERROR redis.connect.consul A', 'T x-1.miss.example.com A', 'NXDOMAIN nope1.service.consul A']);
  assert.equal(r.lost, 1);
  assert.equal(r.p99Ms, 0.3);
});

test('intervals: as asked for long runs, shortened so a short run still has six', () => {
  assert.equal(intervalFor(600, 30), 30);
  assert.equal(intervalFor(60, 30), 10);
  assert.equal(intervalFor(20, 30), 5);
});

const traffic = (lost = 0, wrong = 0): SoakInterval['udp'] => ({ sent: 1000, completed: 1000 - lost, lost, wrong, p50Ms: 0.1, p99Ms: 1, qps: 100, lostByKind: {} });
const interval = (index: number, o: { lost?: number; wrong?: number; failed?: number } = {}): SoakInterval => ({
  index, endSeconds: index * 10, udp: traffic(o.lost, o.wrong), tcp: traffic(), bad: { sent: 10, replies: 8 },
  churn: { ok: 100, failed: o.failed ?? 0, maxMs: 5 }, cpuPercent: 50, rssMiB: 100, rcvbufDrops: 0, serverDrops: 0,
});
function result(o: { lost?: number; wrong?: number; failed?: number; rssGrowth?: number; warmup?: number; listed?: string[] } = {}): SoakResult {
  // rssGrowth: MiB added steadily over the whole run (a leak); warmup: MiB added in the first third only, then flat.
  const samples = Array.from({ length: 30 }, (_, i) => ({
    at: i * 2, rssMiB: 100 + (o.rssGrowth ?? 0) * (i / 29) + (o.warmup ?? 0) * Math.min(1, i / 9) + (i % 3) * 4,
  }));
  return {
    rate: 100, tcpRate: 10, measuredMax: 200, minutes: 1, intervalSeconds: 10, badPerSecond: 50, churnPerSecond: 20,
    intervals: [interval(1), interval(2, o), interval(3), interval(4), interval(5), interval(6)], samples, wrongSeen: [],
    churnEnd: { expected: ['churn-1', 'churn-2'], listed: o.listed ?? ['churn-1', 'churn-2'] }, churnLastError: undefined,
    badRcodes: { FORMERR: 5 }, badTcpConnections: 6, alive: true, answersAtEnd: true,
  };
}

test('verdicts: a clean soak passes; a lost or wrong good query, RSS growth, or a lost registration fails it', () => {
  assert.equal(soakPassed(result()), true);
  assert.equal(soakPassed(result({ rssGrowth: 15 })), true, 'within 20 MiB');
  assert.equal(soakPassed(result({ warmup: 150 })), true, 'caches and heap filling in the first third are the warm-up');
  const failing = (r: SoakResult): string[] => soakVerdicts(r).filter((v) => v.pass === false).map((v) => v.name);
  assert.deepEqual(failing(result({ lost: 1 })), ['good queries lost (UDP + TCP)']);
  assert.deepEqual(failing(result({ wrong: 1 })), ['good queries with a wrong rcode']);
  assert.equal(failing(result({ rssGrowth: 90 }))[0]?.startsWith('RSS floor'), true, 'a steady climb after the warm-up');
  assert.equal(failing(result({ warmup: 150, rssGrowth: 90 }))[0]?.startsWith('RSS floor'), true);
  assert.equal(failing(result({ failed: 1 }))[0]?.startsWith('API churn'), true);
  assert.equal(failing(result({ listed: ['churn-1'] }))[0]?.startsWith('API churn'), true);
  assert.equal(soakPassed({ ...result(), intervals: result().intervals.slice(0, 3) }), false, 'a soak cut short fails');
  assert.equal(soakPassed({ ...result(), alive: false }), false);
});

test('the senders against the real server: bad datagrams get answers or silence, churn writes land and are listed', async (t) => {
  const dir = scratch(t);
  const up = await startUpstream(undefined);
  t.after(() => up.child.stop());
  const probe = { name: 'redis.connect.consul', qtype: 'A' } as const;
  const server = await startConnectDns({ configDir: writeMainConfig(join(dir, 'config'), up.port), cpus: undefined, probe, extraArgs: ['--data-dir', join(dir, 'data')] });
  t.after(() => server.child.stop());
  assert.ok(BAD_KINDS.length >= 15);
  const bad = await startBadSender(server.port, 200, 10, 1);
  const churn = startApiChurn(server.httpPort as number, 40, 10);
  await sleep(1500);
  const end = await churn.stop();
  await bad.stop();
  assert.ok(bad.counts.sent >= BAD_KINDS.length, `${bad.counts.sent} sent`);
  assert.ok(churn.counts.ok >= 8, `${churn.counts.ok} API writes`);
  assert.ok(bad.counts.replies > 0, 'the FORMERR / NOTIMP classes are answered');
  assert.ok((bad.counts.rcodes['FORMERR'] ?? 0) > 0);
  assert.equal(churn.counts.failed, 0, churn.counts.lastError);
  assert.deepEqual(end.listed, end.expected);
  assert.ok(server.child.isRunning());
});
