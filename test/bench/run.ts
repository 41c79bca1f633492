// `npm run bench`: connect-dns against the Node ceiling and dnsmasq under dnsperf; prints the table, writes JSON.
//
//   npm run bench                   # full: 5 rounds of 3 s per target and scenario (about 10-12 minutes)
//   npm run bench -- --quick        # 1 round of 2 s (about 2-3 minutes)
//   npm run bench -- --only connect-a,churn,catalog   # scenario ids, or sections: main fixed-rate workers catalog
//   npm run bench -- --only soak [--soak-minutes 10] [--soak-rate QPS]   # the soak runs only when named
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCatalogBench, type CatalogResult } from './catalog-bench.js';
import type { BenchContext } from './context.js';
import { ensureDnsperf } from './dnsperf.js';
import { runMainBench, type MainResult } from './main-bench.js';
import { runSoakBench } from './soak-bench.js';
import { formatSoak, soakPassed, type SoakResult } from './soak-report.js';
import { canPin, installCleanup, stopAll } from './procs.js';
import { checkTargets, formatChecks, formatTable } from './report.js';
import { MAIN_SCENARIOS } from './scenarios.js';
import { dnsmasqVersion, ROOT } from './targets.js';
import { runWorkersBench, type WorkersResult } from './workers-bench.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    'keep-scratch': { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    'soak-rate': { type: 'string' },
    'soak-interval': { type: 'string' },
    'soak-bad-rate': { type: 'string' },
    'soak-churn-rate': { type: 'string' },
  },
});

function positive(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`expected a number in (0, ${max}], got ${text}`);
  return n;
}

async function main(): Promise<number> {
  installCleanup();
  const quick = values.quick === true;
  const cpus = os.cpus().length;
  const pinned = canPin && cpus >= 2;
  const seconds = Math.round(positive(values.seconds, quick ? 2 : 3, 60));
  const rounds = Math.round(positive(values.rounds, quick ? 1 : 5, 9));
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const want = (id: string, section: string): boolean => !only || only.includes(id) || only.includes(section);
  // Minutes long, so never part of the default run: only `--only soak` (alone or with others) runs it.
  const soakWanted = only?.includes('soak') === true;
  const soakOptions = {
    minutes: positive(values['soak-minutes'], 10, 120),
    rate: values['soak-rate'] === undefined ? undefined : Math.round(positive(values['soak-rate'], 1, 1_000_000)),
    intervalSeconds: Math.round(positive(values['soak-interval'], 30, 600)),
    badPerSecond: positive(values['soak-bad-rate'], 50, 10_000),
    churnPerSecond: positive(values['soak-churn-rate'], 20, 1000),
  };
  const dnsperfVersion = ensureDnsperf();
  const scratch = mkdtempSync(join(os.tmpdir(), 'connect-dns-bench-'));
  // Also on Ctrl-C, where the finally below never runs.
  if (!values['keep-scratch']) process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const ctx: BenchContext = {
    seconds, rounds, warmupSeconds: 1, scratch, quick,
    serverCpus: pinned ? '0' : undefined,
    loadCpus: pinned ? `1-${cpus - 1}` : undefined,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  };
  if (pinned) {
    // The bench itself (churn loop, polling, parsing) stays off the servers' core too.
    try { execFileSync('taskset', ['-p', '-c', ctx.loadCpus as string, String(process.pid)], { stdio: 'ignore' }); } catch { /* unpinned */ }
  }
  const machine = {
    cpus, model: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
    node: process.version, dnsperf: dnsperfVersion, dnsmasq: dnsmasqVersion() ?? 'not installed',
  };
  const pinning = pinned
    ? `servers (connect-dns, ceiling, dnsmasq) on CPU ${ctx.serverCpus}; dnsperf, the fake upstream and the bench on CPU ${ctx.loadCpus} (taskset)`
    : `not pinned (${canPin ? 'one core' : 'taskset missing'})`;
  const started = Date.now();
  let mainResult: MainResult | undefined;
  let catalog: CatalogResult | undefined;
  let workers: WorkersResult | undefined;
  let soak: SoakResult | undefined;
  try {
    const mainIds = [...MAIN_SCENARIOS.map((s) => s.id), 'fixed-rate'];
    if (mainIds.some((id) => want(id, id === 'fixed-rate' ? 'fixed-rate' : 'main'))) {
      mainResult = await runMainBench(ctx, (id) => want(id, id === 'fixed-rate' ? 'fixed-rate' : 'main') || (id === 'connect-a' && want('fixed-rate', 'fixed-rate')));
    }
    if (want('workers', 'workers')) workers = await runWorkersBench(ctx);
    if (want('catalog', 'catalog')) catalog = await runCatalogBench(ctx);
    if (soakWanted) soak = await runSoakBench(ctx, soakOptions);
  } finally {
    await stopAll();
    if (values['keep-scratch']) ctx.log(`scratch kept in ${scratch}`);
  }

  const rows = [...(mainResult?.rows ?? []), ...(workers?.rows ?? []), ...(catalog?.rows ?? [])];
  const checks = checkTargets(mainResult, catalog, workers, cpus);
  const header = [
    `connect-dns ${readVersion()} bench — ${quick ? 'quick' : 'full'}: ${rounds} round(s) × ${seconds} s per target, alternating, medians`,
    `machine: ${cpus} cores (${machine.model}), ${machine.memGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, dnsperf ${machine.dnsperf}, dnsmasq ${machine.dnsmasq}`,
    `pinning: ${pinning}${cpus <= 2 ? ' — this machine has 2 cores, so one each' : ''}`,
    'dnsperf -c 1 -q 100 -t 2 -v, no EDNS; latency percentiles from its per-query lines; lost summed over rounds;',
    'CPU µs/q = target utime+stime (/proc/<pid>/stat, whole process tree) ÷ completed queries; RSS = VmRSS after the run.',
  ];
  const extras: string[] = [];
  if (mainResult?.churn) {
    extras.push(`churn: ${mainResult.churn.flipsPerSecond.toFixed(0)} check flips/s acknowledged (X-Consul-Index +${mainResult.churn.indexDelta} in the last round, ${mainResult.churn.failures} failed)`);
  }
  if (catalog) {
    extras.push(`100k catalog: start-up ${(catalog.startupMs / 1000).toFixed(2)} s (spawn to first answer), RSS ${catalog.rssAfterStartMiB.toFixed(0)} MiB after start, ${catalog.rssAfterLoadMiB.toFixed(0)} MiB after load; `
      + `registration → DNS ${catalog.visibleMs.map((v) => v === null ? 'never' : v.toFixed(1)).join(', ')} ms`);
  }
  if (catalog) extras.push('* timed by the bench\'s own Node TCP client, one query at a time on one connection: dnsperf 2.10 drops TCP replies this large (~58 KB).');
  if (workers?.skipped) extras.push(`workers: skipped — ${workers.skipped}`);
  for (const n of mainResult?.notes ?? []) extras.push(n);
  extras.push(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const text = [...header, formatTable(rows), ...(soak ? [formatSoak(soak)] : []), '', ...extras, formatChecks(checks)].join('\n');
  process.stdout.write(`${text}\n`);

  const resultsDir = join(ROOT, 'test', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'latest.json');
  writeFileSync(file, `${JSON.stringify({
    at: new Date().toISOString(), quick, seconds, rounds, machine, pinning, rows, checks,
    churn: mainResult?.churn, fixedRate: mainResult?.fixedRate, catalog, workers: workers ? { skipped: workers.skipped, scaling: workers.scaling, processes: workers.processes } : undefined,
    soak,
    notes: extras,
  }, null, 2)}\n`);
  process.stderr.write(`bench: results written to ${file}\n`);
  if (soak && !soakPassed(soak)) {
    process.stderr.write('bench: the soak FAILED (see its FAIL lines)\n');
    return 1;
  }
  return 0;
}

function readVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

main().then((code) => { process.exitCode = code; }, async (err: unknown) => {
  process.stderr.write(`bench: failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  await stopAll();
  process.exitCode = 1;
});
