// 100,000 instances over 10,000 services: start-up, RSS, lookups against a 10-instance catalog, visibility, big TCP.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIG, bigServiceNames, writeBigConfig, writeSmallConfig } from './catalogs.js';
import { perf, type BenchContext, type PerfExtra, type Row } from './context.js';
import type { PerfResult } from './dnsperf.js';
import { buildQuery } from './dns-wire.js';
import { median, registrationVisibleMs, rotate, summarize, tcpOneAtATime } from './measure.js';
import { rssMiB } from './procs.js';
import { recordReplies, writeQuestions, type CeilingTable, type Question } from './scenarios.js';
import { startCeiling, startConnectDns, type Target } from './targets.js';

export interface CatalogResult {
  readonly rows: Row[];
  readonly instances: number;
  readonly services: number;
  readonly startupMs: number;
  readonly rssAfterStartMiB: number;
  readonly rssAfterLoadMiB: number;
  /** ms from sending each API registration to its first DNS answer. */
  readonly visibleMs: (number | null)[];
  readonly lookupRatio: number;
  readonly tcp1000P50Ms: number;
}

interface Case {
  readonly id: string;
  readonly title: string;
  readonly questions: readonly Question[];
  readonly extra: PerfExtra;
  readonly targets: readonly Target[];
  /** Timed by the bench's own TCP client instead of dnsperf (replies too large for dnsperf). */
  readonly ownClient?: boolean;
}

export async function runCatalogBench(ctx: BenchContext): Promise<CatalogResult> {
  const dir = join(ctx.scratch, 'catalog');
  mkdirSync(dir, { recursive: true });
  const bigDir = writeBigConfig(join(dir, 'big'));
  const smallDir = writeSmallConfig(join(dir, 'small'));
  const started: Target[] = [];
  try {
    const probe = { name: 's1.service.consul', qtype: 'SRV' } as const;
    const big = await startConnectDns({ configDir: bigDir, cpus: ctx.serverCpus, probe, startWithinMs: 120_000 });
    started.push(big);
    const rssAfterStartMiB = rssMiB(big.child.pid);
    ctx.log(`connect-dns with ${BIG.instances} instances up in ${big.startupMs.toFixed(0)} ms, RSS ${rssAfterStartMiB.toFixed(0)} MiB`);

    const visibleMs: (number | null)[] = [];
    for (let k = 0; k < (ctx.quick ? 3 : 7); k++) {
      visibleMs.push(await registrationVisibleMs(big.httpPort as number, big.port, `fresh${k}-${process.pid}`) ?? null);
    }
    ctx.log(`registration → DNS: ${visibleMs.map((v) => v === null ? 'never' : `${v.toFixed(1)} ms`).join(', ')}`);

    const small = await startConnectDns({ configDir: smallDir, cpus: ctx.serverCpus, probe });
    started.push(small);
    const spread = bigServiceNames(1000).map((n) => [`${n}.service.consul`, 'SRV'] as const);
    const one: Question[] = [['s1.service.consul', 'SRV']];
    const bigTcp: Question[] = [[`${BIG.bigService}.service.consul`, 'SRV']];
    const table: CeilingTable = { udp: [], tcp: [] };
    await recordReplies(big.port, [...one, ...spread], false, table);
    await recordReplies(big.port, bigTcp, true, table);
    const ceiling = await startCeiling(dir, table, ctx.serverCpus, probe);
    started.push(ceiling);

    const cases: Case[] = [
      { id: 'lookup', title: 's1 SRV (10 instances)', questions: one, extra: {}, targets: [big, small, ceiling] },
      { id: 'spread', title: 'SRV of 1,000 different services', questions: spread, extra: {}, targets: [big, ceiling] },
      { id: 'tcp1000', title: '1,000-instance SRV, TCP, one at a time*', questions: bigTcp, extra: {}, targets: [big, ceiling], ownClient: true },
    ];
    const label = (t: Target): string => t === big ? 'connect-dns, 100k catalog' : t === small ? 'connect-dns, 10-instance catalog' : 'ceiling';
    const rows: Row[] = [];
    for (const c of cases) {
      ctx.log(`catalog scenario ${c.title}`);
      const file = writeQuestions(dir, c.id, c.questions);
      const results = new Map<Target, PerfResult[]>(c.targets.map((t) => [t, []]));
      const measure = (t: Target, seconds: number): Promise<PerfResult> => c.ownClient
        ? tcpOneAtATime(t.port, buildQuery(...(c.questions[0] as Question)), seconds, t.child.pid)
        : perf(ctx, t, file, seconds, c.extra);
      for (const t of c.targets) await measure(t, ctx.warmupSeconds);
      for (let r = 0; r < ctx.rounds; r++) {
        for (const t of rotate(c.targets, r)) (results.get(t) as PerfResult[]).push(await measure(t, ctx.seconds));
      }
      const ceilingQps = summarize(results.get(ceiling) as PerfResult[]).qps;
      for (const t of c.targets) {
        const summary = summarize(results.get(t) as PerfResult[]);
        rows.push({ section: 'catalog', scenario: c.id, title: c.title, target: label(t), summary, ratio: summary.qps / ceilingQps });
      }
    }
    const qps = (scenario: string, target: string): number =>
      rows.find((r) => r.scenario === scenario && r.target === target)?.summary.qps ?? NaN;
    const tcpRow = rows.find((r) => r.scenario === 'tcp1000' && r.target === label(big));
    return {
      rows, instances: BIG.instances, services: BIG.services, startupMs: big.startupMs, rssAfterStartMiB,
      rssAfterLoadMiB: rssMiB(big.child.pid), visibleMs,
      lookupRatio: qps('lookup', label(big)) / qps('lookup', label(small)),
      tcp1000P50Ms: tcpRow?.summary.p50Ms ?? NaN,
    };
  } finally {
    for (const t of started) await t.child.stop();
  }
}

export const visibleSummary = (v: readonly (number | null)[]): { median: number; max: number; missed: number } => {
  const seen = v.filter((x): x is number => x !== null);
  return { median: median(seen), max: seen.length > 0 ? Math.max(...seen) : NaN, missed: v.length - seen.length };
};

