// The soak's per-interval table and its verdicts: lost or wrong good queries, RSS growth, churn kept, p99 spread.
import { median } from './measure.js';
import { KINDS, type Kind } from './soak-mix.js';

/** One dnsperf's counts for one interval. */
export interface Traffic {
  sent: number;
  completed: number;
  lost: number;
  /** Answered with an rcode the name should not get (soak-mix.ts expectedRcodes). */
  wrong: number;
  p50Ms: number;
  p99Ms: number;
  qps: number;
  /** Timed-out queries by what they asked (soak-mix.ts kindOf). */
  readonly lostByKind: Partial<Record<Kind, number>>;
}

export interface SoakInterval {
  readonly index: number;
  /** Seconds since the soak started, at the interval's end. */
  readonly endSeconds: number;
  readonly udp: Traffic;
  readonly tcp: Traffic;
  readonly bad: { readonly sent: number; readonly replies: number };
  readonly churn: { readonly ok: number; readonly failed: number; readonly maxMs: number };
  /** Server CPU over the interval, in % of one core. */
  readonly cpuPercent: number;
  readonly rssMiB: number;
  /** UDP datagrams the kernel dropped on full receive buffers over the interval, machine-wide. */
  readonly rcvbufDrops: number | undefined;
  /** Of those, the ones on connect-dns's own UDP socket (it fell behind), from /proc/net/udp. */
  readonly serverDrops: number | undefined;
}

export interface SoakSample { readonly at: number; readonly rssMiB: number }

export interface SoakResult {
  readonly rate: number;
  readonly tcpRate: number;
  readonly measuredMax: number | undefined;
  readonly minutes: number;
  readonly intervalSeconds: number;
  readonly badPerSecond: number;
  readonly churnPerSecond: number;
  readonly intervals: readonly SoakInterval[];
  readonly samples: readonly SoakSample[];
  readonly wrongSeen: readonly string[];
  readonly churnEnd: { readonly expected: readonly string[]; readonly listed: readonly string[] | undefined };
  readonly churnLastError: string | undefined;
  readonly badRcodes: Record<string, number>;
  readonly badTcpConnections: number;
  readonly alive: boolean;
  readonly answersAtEnd: boolean;
  readonly serverOutput?: string;
}

export interface SoakVerdict {
  readonly name: string;
  readonly value: string;
  /** undefined: reported, not judged. */
  readonly pass: boolean | undefined;
}

/**
 * The RSS floor (the lowest sample) of the last third of the run may exceed the first third's by at most 20 MiB,
 * or 10% when that is more. Floors, not medians: between collections V8 and the allocator move RSS by tens of MiB
 * (200-270 MiB within one minute here), while what a leak keeps raises the floor after every collection. The
 * caches are full before the first third starts (the rate measurement fills the 10,000-entry forward cache), and a
 * leak that stays under 20 MiB over a 10-minute soak at 10,000 qps keeps less than 4 bytes per query.
 */
export const RSS_GROWTH = { mib: 20, fraction: 0.1 } as const;

/**
 * RSS floors of the middle and last thirds. The first third is the warm-up: the reply and forward caches fill
 * to their bounds and V8 sizes its heap for the load (measured: about +100 MiB in the first two minutes, then
 * flat), so growth there is expected; a leak keeps raising the floor after it, from the middle third to the last.
 */
export function rssThirds(samples: readonly SoakSample[]): { first: number; last: number; firstMedian: number; lastMedian: number; allowed: number } {
  const end = samples.at(-1)?.at ?? 0;
  const a = samples.filter((s) => s.at >= end / 3 && s.at <= (2 * end) / 3).map((s) => s.rssMiB);
  const b = samples.filter((s) => s.at >= (2 * end) / 3).map((s) => s.rssMiB);
  const first = a.length > 0 ? Math.min(...a) : NaN;
  const last = b.length > 0 ? Math.min(...b) : NaN;
  return { first, last, firstMedian: median(a), lastMedian: median(b), allowed: Math.max(RSS_GROWTH.mib, first * RSS_GROWTH.fraction) };
}

export function soakVerdicts(r: SoakResult): SoakVerdict[] {
  const sum = (f: (i: SoakInterval) => number): number => r.intervals.reduce((n, i) => n + f(i), 0);
  const lost = sum((i) => i.udp.lost + i.tcp.lost);
  const good = sum((i) => i.udp.sent + i.tcp.sent);
  const wrong = sum((i) => i.udp.wrong + i.tcp.wrong);
  const rss = rssThirds(r.samples);
  const growth = rss.last - rss.first;
  const p99s = r.intervals.map((i) => i.udp.p99Ms);
  const worst = Math.max(...p99s);
  const mid = median(p99s);
  const churnFailed = sum((i) => i.churn.failed);
  const kept = r.churnEnd.listed !== undefined && r.churnEnd.listed.join(',') === r.churnEnd.expected.join(',');
  const planned = Math.round(r.minutes * 60 / r.intervalSeconds);
  return [
    { name: 'good queries lost (UDP + TCP)', value: `${lost} of ${good.toLocaleString('en-US')}`, pass: lost === 0 && good > 0 },
    { name: 'good queries with a wrong rcode', value: `${wrong}${r.wrongSeen.length > 0 ? ` (${r.wrongSeen.join('; ')})` : ''}`, pass: wrong === 0 },
    { name: 'intervals run', value: `${r.intervals.length} of ${planned}`, pass: r.intervals.length >= planned },
    { name: 'server up and answering at the end', value: r.alive ? (r.answersAtEnd ? 'yes' : 'up, not answering') : 'exited', pass: r.alive && r.answersAtEnd },
    {
      name: `RSS floor, last third vs middle third (≤ +${RSS_GROWTH.mib} MiB or +${RSS_GROWTH.fraction * 100}%)`,
      value: `${rss.first.toFixed(1)} → ${rss.last.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}, allowed +${rss.allowed.toFixed(1)}); `
        + `medians ${rss.firstMedian.toFixed(1)} → ${rss.lastMedian.toFixed(1)} MiB`,
      pass: Number.isFinite(growth) && growth <= rss.allowed,
    },
    {
      name: 'API churn: failed writes, registrations kept',
      value: `${churnFailed} failed of ${sum((i) => i.churn.ok) + churnFailed}; agent lists ${r.churnEnd.listed?.length ?? '?'} churn instances, ${r.churnEnd.expected.length} expected`
        + (r.churnLastError ? ` (last error: ${r.churnLastError})` : ''),
      pass: churnFailed === 0 && kept,
    },
    { name: 'UDP p99: worst interval vs median interval', value: `${worst.toFixed(3)} vs ${mid.toFixed(3)} ms (${(worst / mid).toFixed(1)}×)`, pass: undefined },
  ];
}

const f = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
/** dnsperf.ts keeps latencies up to 200 ms; a percentile there means "at least". */
const ms = (v: number): string => (v >= 200 ? '≥200' : f(v, 3));
const n = (v: number): string => v.toLocaleString('en-US');

export function formatSoak(r: SoakResult): string {
  const header = ['#', 't s', 'UDP sent', 'answered', 'lost', 'wrong*', 'p50 ms', 'p99 ms', 'qps', 'TCP sent', 'lost',
    'bad sent/replied', 'API ok/fail', 'API max ms', 'drops: server/all', 'CPU %', 'RSS MiB'];
  const cells = r.intervals.map((i) => [
    String(i.index), f(i.endSeconds, 0), n(i.udp.sent), n(i.udp.completed), String(i.udp.lost), String(i.udp.wrong + i.tcp.wrong),
    ms(i.udp.p50Ms), ms(i.udp.p99Ms), n(Math.round(i.udp.qps)), n(i.tcp.sent), String(i.tcp.lost),
    `${i.bad.sent}/${i.bad.replies}`, `${i.churn.ok}/${i.churn.failed}`, f(i.churn.maxMs, 1), `${i.serverDrops ?? '-'}/${i.rcvbufDrops ?? '-'}`, f(i.cpuPercent, 0), f(i.rssMiB, 1),
  ]);
  const widths = header.map((h, k) => Math.max(h.length, ...cells.map((c) => (c[k] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((v, k) => v.padStart(widths[k] ?? 0)).join('  ');
  const verdicts = soakVerdicts(r);
  const w = Math.max(...verdicts.map((v) => v.name.length));
  const bad = Object.entries(r.badRcodes).map(([k, v]) => `${k}×${v}`).join(' ') || 'none';
  return [
    '',
    `Soak: ${r.minutes} min at ${n(r.rate)} qps UDP${r.measuredMax !== undefined ? ` (half the ${n(Math.round(r.measuredMax))} qps measured with the same mix)` : ' (--soak-rate)'}`
      + ` + ${n(r.tcpRate)} qps TCP; ${r.badPerSecond} bad datagrams/s and 1 bad TCP frame/s; ${r.churnPerSecond} API writes/s; ${r.intervalSeconds} s intervals`,
    'mix: 50% in-zone (connect, service, node, a churned service), 15% NXDOMAIN, 25% forwarded cache hits, 10% forwarded misses (unique names)',
    line(header), widths.map((x) => '-'.repeat(x)).join('  '), ...cells.map(line),
    '* answered (UDP and TCP) with an rcode the name should not get; lost = no reply within dnsperf\'s 2 s timeout',
    `lost by kind: ${lostByKind(r)}; drops: UDP datagrams dropped on a full receive buffer, on connect-dns's socket (/proc/net/udp) / machine-wide (/proc/net/snmp)`,
    `bad traffic: replies by rcode ${bad} (not counted as losses); ${r.badTcpConnections} TCP connections with a bad frame`,
    ...verdicts.map((v) => `  [${v.pass === undefined ? ' -- ' : v.pass ? ' ok ' : 'FAIL'}] ${v.name.padEnd(w)}  ${v.value}`),
    ...(r.serverOutput ? ['server output (tail):', r.serverOutput] : []),
  ].join('\n');
}

function lostByKind(r: SoakResult): string {
  const total = (k: Kind): number => r.intervals.reduce((n, i) => n + (i.udp.lostByKind[k] ?? 0) + (i.tcp.lostByKind[k] ?? 0), 0);
  return KINDS.map((k) => `${k} ${total(k)}`).join(', ');
}

export const soakPassed = (r: SoakResult): boolean => soakVerdicts(r).every((v) => v.pass !== false);
