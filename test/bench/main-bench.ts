// The side-by-side scenarios (connect-dns, the Node ceiling, dnsmasq) and latency at half the ceiling's rate.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dnsmasqOptions, FLAP_CHECK, writeMainConfig } from './catalogs.js';
import { perf, type BenchContext, type Row } from './context.js';
import type { PerfResult } from './dnsperf.js';
import { rotate, startChurn, summarize } from './measure.js';
import { FORWARD_TAIL, MAIN_SCENARIOS, recordReplies, writeLines, writeQuestions, type CeilingTable, type Scenario } from './scenarios.js';
import { startCeiling, startConnectDns, startDnsmasq, startUpstream, type Target } from './targets.js';

export interface MainResult {
  readonly rows: Row[];
  readonly notes: string[];
  readonly churn?: { flipsPerSecond: number; indexDelta: number; failures: number };
  readonly fixedRate?: number;
}

/** Lines a unique-name file needs so dnsperf never runs out within `seconds` (no target here exceeds 200k qps). */
const uniqueCount = (seconds: number): number => Math.ceil(seconds * 200_000);

export async function runMainBench(ctx: BenchContext, only: (id: string) => boolean): Promise<MainResult> {
  const dir = join(ctx.scratch, 'main');
  mkdirSync(dir, { recursive: true });
  const notes: string[] = [];
  const rows: Row[] = [];
  const upstream = await startUpstream(ctx.loadCpus);
  const started: Target[] = [];
  try {
    const probe = { name: 'redis.connect.consul', qtype: 'A' } as const;
    const cdns = await startConnectDns({ configDir: writeMainConfig(join(dir, 'config'), upstream.port), cpus: ctx.serverCpus, probe });
    started.push(cdns);
    ctx.log(`connect-dns (main catalog) on 127.0.0.1:${cdns.port}, up in ${cdns.startupMs.toFixed(0)} ms`);
    const table: CeilingTable = { udp: [], tcp: [], fallbackTail: FORWARD_TAIL };
    for (const s of MAIN_SCENARIOS) if (s.questions) await recordReplies(cdns.port, s.questions, s.tcp === true, table);
    const ceiling = await startCeiling(dir, table, ctx.serverCpus, probe);
    started.push(ceiling);
    const dnsmasq = await startDnsmasq(dir, (port) => dnsmasqOptions(port, upstream.port), ctx.serverCpus, probe);
    if (dnsmasq) {
      started.push(dnsmasq);
      notes.push('dnsmasq is left out of the TCP rows: it forks per connection and manages ~100 qps under dnsperf -m tcp.');
    } else notes.push('dnsmasq is not installed: its column is missing (apt-get install -y dnsmasq to add it).');

    let churnStats: MainResult['churn'];
    for (const s of MAIN_SCENARIOS) {
      if (!only(s.id)) continue;
      const targets = [cdns, ceiling, ...(dnsmasq && s.dnsmasq ? [dnsmasq] : [])];
      const results = new Map<Target, PerfResult[]>(targets.map((t) => [t, []]));
      const fileFor = (tag: string, seconds: number): string => s.questions
        ? writeQuestions(dir, s.id, s.questions)
        : writeLines(dir, `${s.id}-${tag}`, (s.uniqueNames as NonNullable<Scenario['uniqueNames']>)(`${tag}-${process.pid}`, uniqueCount(seconds)));
      const extra = { tcp: s.tcp === true, ...(s.uniqueNames ? { maxRuns: 1 } : {}) };
      ctx.log(`scenario ${s.title}`);
      const warm = fileFor('w', ctx.warmupSeconds);
      for (const t of targets) await perf(ctx, t, warm, ctx.warmupSeconds, extra);
      for (let r = 0; r < ctx.rounds; r++) {
        const file = fileFor(`r${r}`, ctx.seconds);
        for (const t of rotate(targets, r)) {
          const churn = s.churn && t.kind === 'connect-dns' && cdns.httpPort ? startChurn(cdns.httpPort, FLAP_CHECK) : undefined;
          const res = await perf(ctx, t, file, ctx.seconds, extra);
          const c = await churn?.stop();
          if (c) churnStats = { flipsPerSecond: c.flips / c.seconds, indexDelta: c.indexDelta, failures: c.failures };
          (results.get(t) as PerfResult[]).push(res);
          ctx.log(`  ${t.kind.padEnd(11)} round ${r + 1}: ${res.qps.toFixed(0)} qps, p99 ${res.p99Ms.toFixed(3)} ms, lost ${res.lost}`);
        }
        if (s.uniqueNames) rmSync(file, { force: true });
      }
      const ceilingQps = summarize(results.get(ceiling) as PerfResult[]).qps;
      for (const t of targets) {
        const summary = summarize(results.get(t) as PerfResult[]);
        const wrong = Object.entries(summary.rcodes).filter(([k]) => k !== s.rcode);
        const note = wrong.length > 0 ? `rcodes ${wrong.map(([k, n]) => `${k}×${n}`).join(' ')}` : undefined;
        rows.push({ section: 'main', scenario: s.id, title: s.title, target: t.kind, summary, ratio: summary.qps / ceilingQps, ...(note ? { note } : {}) });
      }
    }

    let fixedRate: number | undefined;
    const ceilingA = rows.find((r) => r.scenario === 'connect-a' && r.target === 'ceiling');
    if (only('fixed-rate') && ceilingA) {
      fixedRate = Math.round(ceilingA.summary.qps / 2);
      ctx.log(`fixed rate: ${fixedRate} qps (half the ceiling's maximum) for redis.connect.consul A`);
      const file = writeQuestions(dir, 'fixed', [['redis.connect.consul', 'A']]);
      const targets = [cdns, ceiling, ...(dnsmasq ? [dnsmasq] : [])];
      const results = new Map<Target, PerfResult[]>(targets.map((t) => [t, []]));
      for (let r = 0; r < ctx.rounds; r++) {
        for (const t of rotate(targets, r)) (results.get(t) as PerfResult[]).push(await perf(ctx, t, file, ctx.seconds, { rate: fixedRate }));
      }
      for (const t of targets) {
        const summary = summarize(results.get(t) as PerfResult[]);
        // A target that cannot hold the rate (or a busy machine) would make its latencies incomparable.
        const held = summary.qps / fixedRate;
        rows.push({ section: 'fixed-rate', scenario: 'fixed-rate', title: `redis A at ${fixedRate} qps`, target: t.kind, summary,
          ...(held < 0.95 ? { note: `held only ${(held * 100).toFixed(0)}% of the rate` } : {}) });
      }
    } else if (only('fixed-rate')) {
      notes.push('fixed-rate latency needs the connect-a scenario (the ceiling\'s maximum); it was not run.');
    }
    return { rows, notes, ...(churnStats ? { churn: churnStats } : {}), ...(fixedRate ? { fixedRate } : {}) };
  } finally {
    for (const t of started) await t.child.stop();
    await upstream.child.stop();
  }
}
