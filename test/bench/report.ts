// The printed table and the issue's targets, checked against one run's medians.
import type { CatalogResult } from './catalog-bench.js';
import { visibleSummary } from './catalog-bench.js';
import type { Row } from './context.js';
import type { MainResult } from './main-bench.js';
import type { WorkersResult } from './workers-bench.js';

export interface TargetCheck {
  readonly name: string;
  readonly value: string;
  readonly goal: string;
  /** undefined: not measured in this run (or this machine cannot show it). */
  readonly pass: boolean | undefined;
  readonly note?: string;
}

const fmt = (v: number | undefined, digits: number): string =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
const qpsText = (v: number): string => Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-';

const SECTION_TITLES: Record<Row['section'], string> = {
  'main': 'Side by side (ratio = qps ÷ the Node ceiling\'s qps in the same scenario)',
  'fixed-rate': 'Latency at a fixed rate of half the ceiling\'s maximum',
  'catalog': '100,000 instances over 10,000 services (ratio = qps ÷ ceiling)',
  'workers': '--workers (ratio = qps ÷ 1 worker)',
};

export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'target', 'qps', 'p50 ms', 'p99 ms', 'lost', 'CPU µs/q', 'RSS MiB', 'ratio'];
  const out: string[] = [];
  for (const section of Object.keys(SECTION_TITLES) as Row['section'][]) {
    const mine = rows.filter((r) => r.section === section);
    if (mine.length === 0) continue;
    const cells = mine.map((r) => [
      r.title, r.target, qpsText(r.summary.qps), fmt(r.summary.p50Ms, 3), fmt(r.summary.p99Ms, 3), String(r.summary.lost),
      fmt(r.summary.cpuUsPerQuery, 1), fmt(r.summary.rssMiB, 0), fmt(r.ratio, 2) + (r.note ? `  (${r.note})` : ''),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
    const line = (c: readonly string[]): string => c.map((v, i) => (i >= 2 && i < 8 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    out.push('', SECTION_TITLES[section], line(header), widths.map((w) => '-'.repeat(w)).join('  '));
    let last = '';
    for (const c of cells) {
      out.push(line([c[0] === last ? '' : (c[0] ?? ''), ...c.slice(1)]));
      last = c[0] ?? '';
    }
  }
  return out.join('\n');
}

function row(rows: readonly Row[], scenario: string, target: string): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.target === target);
}

function atLeast(name: string, value: number | undefined, goal: number, unit = '×'): TargetCheck {
  const ok = value !== undefined && Number.isFinite(value);
  return { name, value: ok ? `${value.toFixed(2)}${unit}` : '-', goal: `≥ ${goal}${unit}`, pass: ok ? value >= goal : undefined };
}

function below(name: string, value: number | undefined, goal: number, unit: string): TargetCheck {
  const ok = value !== undefined && Number.isFinite(value);
  return { name, value: ok ? `${value.toFixed(value < 10 ? 2 : 0)} ${unit}` : '-', goal: `< ${goal} ${unit}`, pass: ok ? value < goal : undefined };
}

export function checkTargets(main: MainResult | undefined, catalog: CatalogResult | undefined,
  workers: WorkersResult | undefined, cpus: number): TargetCheck[] {
  const rows = main?.rows ?? [];
  const ratio = (s: string): number | undefined => row(rows, s, 'connect-dns')?.ratio;
  const checks: TargetCheck[] = [];
  const ran = (s: string): boolean => row(rows, s, 'connect-dns') !== undefined;
  if (ran('connect-a')) checks.push(atLeast('in-zone cache hit, redis.connect.consul A', ratio('connect-a'), 0.85));
  if (ran('connect-srv')) checks.push(atLeast('in-zone cache hit, redis.connect.consul SRV', ratio('connect-srv'), 0.85));
  if (ran('churn')) checks.push(atLeast('in-zone miss, catalog changing every 10 ms', ratio('churn'), 0.4));
  if (ran('forward-hit')) checks.push(atLeast('forwarded, cache hit', ratio('forward-hit'), 0.8));
  const udp = row(rows, 'connect-a', 'connect-dns')?.summary.qps;
  const tcp = row(rows, 'connect-a-tcp', 'connect-dns')?.summary.qps;
  if (udp && tcp) checks.push(atLeast('TCP (connection reuse) ÷ UDP, redis A', tcp / udp, 0.5));
  if (catalog) {
    const vis = visibleSummary(catalog.visibleMs);
    checks.push(
      below('100k: start-up', catalog.startupMs / 1000, 10, 's'),
      below('100k: RSS (after load)', Math.max(catalog.rssAfterStartMiB, catalog.rssAfterLoadMiB), 400, 'MiB'),
      atLeast('100k: lookup qps ÷ 10-instance catalog', catalog.lookupRatio, 0.9),
      { ...below('100k: API registration visible in DNS (worst)', vis.missed > 0 ? Infinity : vis.max, 50, 'ms'),
        ...(vis.missed > 0 ? { note: `${vis.missed} never seen within 5 s` } : {}) },
      below('100k: 1,000-instance SRV over TCP, p50 per query', catalog.tcp1000P50Ms, 5, 'ms'),
    );
  }
  const fc = row(rows, 'fixed-rate', 'connect-dns')?.summary;
  const fr = row(rows, 'fixed-rate', 'ceiling')?.summary;
  if (fc && fr) {
    checks.push(
      { ...atLeast('fixed rate: p50 ÷ ceiling p50 (lower is better)', fc.p50Ms / fr.p50Ms, 0), goal: '≤ 1.5×', pass: fc.p50Ms <= 1.5 * fr.p50Ms },
      { ...atLeast('fixed rate: p99 ÷ ceiling p99 (lower is better)', fc.p99Ms / fr.p99Ms, 0), goal: '≤ 1.5×', pass: fc.p99Ms <= 1.5 * fr.p99Ms },
      { name: 'fixed rate: lost queries', value: String(fc.lost), goal: '0', pass: fc.lost === 0 },
    );
  }
  if (workers?.scaling !== undefined) {
    checks.push({
      ...atLeast('--workers 2 ÷ 1 worker', workers.scaling, 1.6),
      ...(cpus <= 2 ? { pass: undefined, note: `${cpus} cores: the load generator cannot have its own cores, so 1.6× cannot be shown here; measured with everything sharing the cores` } : {}),
    });
  } else if (workers?.skipped) {
    checks.push({ name: '--workers 2 ÷ 1 worker', value: '-', goal: '≥ 1.6×', pass: undefined, note: `skipped: ${workers.skipped}` });
  }
  return checks;
}

export function formatChecks(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return '';
  const w = Math.max(...checks.map((c) => c.name.length));
  const v = Math.max(...checks.map((c) => c.value.length));
  return ['', 'Targets (issue 4)', ...checks.map((c) => {
    const mark = c.pass === undefined ? ' n/a' : c.pass ? ' ok ' : 'MISS';
    return `  [${mark}] ${c.name.padEnd(w)}  ${c.value.padStart(v)}  (${c.goal})${c.note ? `  ${c.note}` : ''}`;
  })].join('\n');
}
