// `--workers 2` against one worker, unpinned: on 2 cores the load generator has to share them with the workers.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeMainConfig } from './catalogs.js';
import { perf, type BenchContext, type Row } from './context.js';
import type { PerfResult } from './dnsperf.js';
import { rotate, summarize } from './measure.js';
import { writeQuestions } from './scenarios.js';
import { startConnectDns, type Target } from './targets.js';

export interface WorkersResult {
  readonly rows: Row[];
  /** Why it did not run, when it did not. */
  readonly skipped?: string;
  readonly scaling?: number;
  readonly processes?: number;
}

export async function runWorkersBench(ctx: BenchContext): Promise<WorkersResult> {
  const dir = join(ctx.scratch, 'workers');
  mkdirSync(dir, { recursive: true });
  // No forwarded names are asked here; the recursor only keeps the config shape of the main scenarios.
  const configDir = writeMainConfig(join(dir, 'config'), 9);
  const probe = { name: 'redis.connect.consul', qtype: 'A' } as const;
  const started: Target[] = [];
  try {
    const one = await startConnectDns({ configDir, cpus: undefined, probe, workers: 1 });
    started.push(one);
    let two: Target;
    try {
      two = await startConnectDns({ configDir, cpus: undefined, probe, workers: 2 });
    } catch (err) {
      return { rows: [], skipped: `connect-dns --workers 2 did not start: ${String(err).split('\n')[0]}` };
    }
    started.push(two);
    if (two.processes < 3) {
      return { rows: [], skipped: `--workers 2 is accepted but runs ${two.processes} process(es), no worker processes yet`, processes: two.processes };
    }
    const file = writeQuestions(dir, 'workers', [['redis.connect.consul', 'A']]);
    // Several dnsperf clients (source ports), so the kernel can spread datagrams over the workers' sockets.
    const extra = { clients: 4, outstanding: 200 };
    const results = new Map<Target, PerfResult[]>([[one, []], [two, []]]);
    ctx.log('workers: 1 vs 2, nothing pinned');
    for (const t of [one, two]) await perf(ctx, t, file, ctx.warmupSeconds, extra, undefined);
    for (let r = 0; r < ctx.rounds; r++) {
      for (const t of rotate([one, two], r)) (results.get(t) as PerfResult[]).push(await perf(ctx, t, file, ctx.seconds, extra, undefined));
    }
    const s1 = summarize(results.get(one) as PerfResult[]);
    const s2 = summarize(results.get(two) as PerfResult[]);
    const title = 'redis A, unpinned, dnsperf -c 4 -q 200 (shares the cores)';
    return {
      rows: [
        { section: 'workers', scenario: 'workers', title, target: 'connect-dns, 1 worker', summary: s1, ratio: 1 },
        { section: 'workers', scenario: 'workers', title, target: 'connect-dns, 2 workers', summary: s2, ratio: s2.qps / s1.qps },
      ],
      scaling: s2.qps / s1.qps,
      processes: two.processes,
    };
  } finally {
    for (const t of started) await t.child.stop();
  }
}
