// The soak: connect-dns at half its measured maximum for minutes, with bad datagrams and API churn alongside.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeMainConfig } from './catalogs.js';
import { perf, type BenchContext } from './context.js';
import { parseDnsperfOutput, startDnsperf, type RunningPerf } from './dnsperf.js';
import { cpuMicros, rssMiB, udpRcvbufErrors, udpSocketDrops } from './procs.js';
import { startBadSender } from './soak-bad.js';
import { startApiChurn } from './soak-churn.js';
import { expectedRcodes, kindOf, mixLines, tcpMixLines, writeMix } from './soak-mix.js';
import type { SoakInterval, SoakResult, SoakSample, Traffic } from './soak-report.js';
import { pollAnswer, startConnectDns, startUpstream, type Target } from './targets.js';

export interface SoakOptions {
  readonly minutes: number;
  /** Good UDP queries a second; undefined: half the maximum measured here first. */
  readonly rate: number | undefined;
  /** Seconds per reported interval (shortened so a run has at least 6). */
  readonly intervalSeconds: number;
  readonly badPerSecond: number;
  readonly churnPerSecond: number;
}

/** TCP carries this share of the UDP rate, on dnsperf's one connection. */
const TCP_SHARE = 1 / 20;
/** Room for the API stalls and GC pauses of a long run: dnsperf keeps sending at the rate while replies lag. */
const OUTSTANDING = 500;
const RSS_EVERY_MS = 2000;
/** dnsperf's socket buffers (KiB; the kernel caps them at net.core.rmem_max): it shares the load core with the bench. */
const CLIENT_BUFFER_KIB = 4096;
const MAX_WRONG_KEPT = 5;

const probe = { name: 'redis.connect.consul', qtype: 'A' } as const;

/** Seconds per interval: the asked length, or shorter so that thirds of the run (RSS slope) hold two intervals each. */
export function intervalFor(totalSeconds: number, asked: number): number {
  return Math.max(5, Math.min(asked, Math.floor(totalSeconds / 6)));
}

export async function runSoakBench(ctx: BenchContext, o: SoakOptions): Promise<SoakResult> {
  const dir = join(ctx.scratch, 'soak');
  mkdirSync(dir, { recursive: true });
  const upstream = await startUpstream(ctx.loadCpus);
  let cdns: Target | undefined;
  try {
    cdns = await startConnectDns({
      configDir: writeMainConfig(join(dir, 'config'), upstream.port), cpus: ctx.serverCpus, probe,
      extraArgs: ['--data-dir', join(dir, 'data')],
    });
    const server = cdns;
    ctx.log(`soak: connect-dns on 127.0.0.1:${server.port} (HTTP ${String(server.httpPort)}), data dir ${join(dir, 'data')}`);

    // The measurement doubles as the warm-up: caches fill (forward cache to its bound) and the JIT settles.
    let measuredMax: number | undefined;
    let rate = o.rate;
    if (rate === undefined) {
      const warm = writeMix(dir, 'warm', mixLines('warm', 60_000 * 2));
      await perf(ctx, server, warm, 2);
      const maxFile = writeMix(dir, 'max', mixLines('max', 60_000 * 5));
      const max = await perf(ctx, server, maxFile, 5);
      measuredMax = max.qps;
      rate = Math.max(100, Math.round(max.qps / 2));
      rmSync(warm, { force: true });
      rmSync(maxFile, { force: true });
      ctx.log(`soak: maximum ${max.qps.toFixed(0)} qps with the mix (lost ${max.lost}); soaking at ${rate} qps`);
    }
    const total = Math.round(o.minutes * 60);
    const seconds = intervalFor(total, o.intervalSeconds);
    const count = Math.max(1, Math.round(total / seconds));
    const tcpRate = Math.max(10, Math.round(rate * TCP_SHARE));
    ctx.log(`soak: ${count} × ${seconds} s; UDP ${rate} qps, TCP ${tcpRate} qps, ${o.badPerSecond} bad datagrams/s, ${o.churnPerSecond} API writes/s`);

    const tcpFile = writeMix(dir, 'tcp', tcpMixLines());
    const linesFor = (i: number): string[] => mixLines(`i${i}-${process.pid}`, Math.ceil((rate as number) * seconds * 1.1) + 20);
    const bound = total + 120;
    const bad = await startBadSender(server.port, o.badPerSecond, bound, 5);
    const churn = startApiChurn(server.httpPort as number, o.churnPerSecond, bound);
    const samples: SoakSample[] = [];
    const started = performance.now();
    const sample = (): void => {
      samples.push({ at: (performance.now() - started) / 1000, rssMiB: rssMiB(server.child.pid) });
    };
    const sampler = setInterval(sample, RSS_EVERY_MS);
    const intervals: SoakInterval[] = [];
    const wrongSeen: string[] = [];
    const check = (traffic: Traffic) => (rcode: string, name: string, qtype: string): void => {
      if (rcode === 'T') {
        const kind = kindOf(name);
        traffic.lostByKind[kind] = (traffic.lostByKind[kind] ?? 0) + 1;
        return;
      }
      if (expectedRcodes(name).includes(rcode)) return;
      traffic.wrong++;
      if (wrongSeen.length < MAX_WRONG_KEPT) wrongSeen.push(`${name} ${qtype} → ${rcode}`);
    };
    const parse = async (run: RunningPerf, tcp: boolean): Promise<Traffic> => {
      const t: Traffic = { sent: 0, completed: 0, lost: 0, wrong: 0, p50Ms: NaN, p99Ms: NaN, qps: 0, lostByKind: {} };
      try {
        const r = await parseDnsperfOutput(run.outFile, check(t));
        if (r.sent === 0) throw new Error(`dnsperf (${tcp ? 'TCP' : 'UDP'}) sent nothing: ${run.child.output().slice(-2000)}`);
        return { ...t, sent: r.sent, completed: r.completed, lost: r.lost, p50Ms: r.p50Ms, p99Ms: r.p99Ms, qps: r.qps };
      } finally {
        rmSync(run.outFile, { force: true });
      }
    };

    let file = writeMix(dir, 'i0', linesFor(0));
    let pending: Promise<void> | undefined;
    try {
      for (let i = 0; i < count; i++) {
        const cpu0 = cpuMicros(server.child.pid);
        const drops0 = udpRcvbufErrors();
        const serverDrops0 = udpSocketDrops(server.port);
        const t0 = performance.now();
        const bad0 = { sent: bad.counts.sent, replies: bad.counts.replies };
        const churn0 = { ok: churn.counts.ok, failed: churn.counts.failed };
        churn.counts.maxMs = 0;
        const udp = startDnsperf({ port: server.port, file, seconds, rate, outstanding: OUTSTANDING, bufferKiB: CLIENT_BUFFER_KIB, cpus: ctx.loadCpus, scratchDir: dir });
        const tcp = startDnsperf({ port: server.port, file: tcpFile, seconds, rate: tcpRate, tcp: true, bufferKiB: CLIENT_BUFFER_KIB, cpus: ctx.loadCpus, scratchDir: dir });
        // While this interval runs: the previous one's output is parsed and the next one's names written.
        await pending;
        const used = file;
        if (i + 1 < count) file = writeMix(dir, `i${i + 1}`, linesFor(i + 1));
        const [udpCode, tcpCode] = await Promise.all([udp.exited, tcp.exited]);
        rmSync(used, { force: true });
        if (udpCode !== 0 || tcpCode !== 0) {
          throw new Error(`dnsperf exited ${String(udpCode)} (UDP) / ${String(tcpCode)} (TCP): ${udp.child.output().slice(-1000)} ${tcp.child.output().slice(-1000)}`);
        }
        sample();
        const drops1 = udpRcvbufErrors();
        const serverDrops1 = udpSocketDrops(server.port);
        const wall = (performance.now() - t0) / 1000;
        const head = {
          index: i + 1, endSeconds: (performance.now() - started) / 1000,
          cpuPercent: ((cpuMicros(server.child.pid) - cpu0) / 1e6 / wall) * 100,
          rssMiB: (samples.at(-1) as SoakSample).rssMiB,
          rcvbufDrops: drops0 !== undefined && drops1 !== undefined ? drops1 - drops0 : undefined,
          serverDrops: serverDrops0 !== undefined && serverDrops1 !== undefined ? serverDrops1 - serverDrops0 : undefined,
          bad: { sent: bad.counts.sent - bad0.sent, replies: bad.counts.replies - bad0.replies },
          churn: { ok: churn.counts.ok - churn0.ok, failed: churn.counts.failed - churn0.failed, maxMs: churn.counts.maxMs },
        };
        pending = Promise.all([parse(udp, false), parse(tcp, true)]).then(([u, t]) => {
          intervals.push({ ...head, udp: u, tcp: t });
          const row = intervals.at(-1) as SoakInterval;
          ctx.log(`soak ${row.index}/${count}: UDP ${u.completed}/${u.sent} lost ${u.lost} wrong ${u.wrong} p99 ${u.p99Ms.toFixed(3)} ms; `
            + `TCP lost ${t.lost}; churn ${row.churn.ok} ok ${row.churn.failed} failed; RSS ${row.rssMiB.toFixed(1)} MiB`);
        });
        // Handled here so a failed parse is not an unhandled rejection before the next interval awaits it.
        pending.catch(() => undefined);
        if (!server.child.isRunning()) break;
      }
      await pending;
    } finally {
      clearInterval(sampler);
    }
    const churnEnd = await churn.stop();
    await bad.stop();
    const alive = server.child.isRunning();
    const answersAtEnd = alive && (await pollAnswer(server.port, probe, 5000, performance.now(), 50)) !== undefined;
    return {
      rate, tcpRate, measuredMax, intervalSeconds: seconds, minutes: o.minutes, intervals, samples, wrongSeen,
      churnLastError: churn.counts.lastError, churnEnd, badRcodes: { ...bad.counts.rcodes }, badTcpConnections: bad.counts.tcpConnections,
      badPerSecond: o.badPerSecond, churnPerSecond: o.churnPerSecond, alive, answersAtEnd,
      ...(alive ? {} : { serverOutput: server.child.output().slice(-3000) }),
    };
  } finally {
    await cdns?.child.stop();
    await upstream.child.stop();
  }
}
