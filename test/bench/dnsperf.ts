// dnsperf: found or installed, run pinned against one target, its summary and per-query latencies parsed.
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuMicros, hasCommand, rssMiB, startChild, type Child } from './procs.js';

/** Makes sure dnsperf is on PATH: installs Debian's package when root, else explains how; returns its version. */
export function ensureDnsperf(): string {
  if (!hasCommand('dnsperf')) {
    const root = process.getuid?.() === 0;
    if (root && hasCommand('apt-get')) {
      process.stderr.write('bench: dnsperf not found, installing Debian\'s dnsperf (apt-get install -y dnsperf)\n');
      let r = spawnSync('apt-get', ['install', '-y', 'dnsperf'], { stdio: 'inherit' });
      if (r.status !== 0) {
        spawnSync('apt-get', ['update'], { stdio: 'inherit' });
        r = spawnSync('apt-get', ['install', '-y', 'dnsperf'], { stdio: 'inherit' });
      }
    }
    if (!hasCommand('dnsperf')) {
      throw new Error('dnsperf is not installed. On Debian/Ubuntu: sudo apt-get install -y dnsperf '
        + '(or build it from https://github.com/DNS-OARC/dnsperf), then run npm run bench again.');
    }
  }
  const text = spawnSync('dnsperf', ['-h'], { encoding: 'utf8' });
  return /Version\s+(\S+)/.exec(`${text.stdout}${text.stderr}`)?.[1] ?? 'unknown';
}

export interface PerfOptions {
  readonly port: number;
  readonly file: string;
  readonly seconds: number;
  readonly tcp?: boolean;
  /** dnsperf -Q: a fixed rate instead of as fast as the target answers. */
  readonly rate?: number;
  /** dnsperf -c and -q. */
  readonly clients?: number;
  readonly outstanding?: number;
  /** dnsperf -n: stop after going through the file this many times (unique-name files). */
  readonly maxRuns?: number;
  /** dnsperf -b: socket buffer size in KiB, so a busy load core does not drop replies on dnsperf's own socket. */
  readonly bufferKiB?: number;
  /** CPU list for dnsperf (undefined: not pinned). */
  readonly cpus: string | undefined;
  /** The target's process, whose CPU and RSS are read around the run. */
  readonly targetPid?: number;
  /** Where dnsperf's verbose output goes (deleted after parsing). */
  readonly scratchDir: string;
}

export interface PerfResult {
  readonly qps: number;
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rcodes: Record<string, number>;
  /** Target CPU (utime+stime of its process tree) per completed query. */
  readonly cpuUsPerQuery: number | undefined;
  readonly rssMiB: number | undefined;
}

let seq = 0;

/** A dnsperf started in the background; its verbose output goes to `outFile`, which the caller parses and deletes. */
export interface RunningPerf {
  readonly outFile: string;
  readonly child: Child;
  /** Resolves with dnsperf's exit code once it has exited (killed past its time limit plus 15 s). */
  readonly exited: Promise<number | null>;
}

export function startDnsperf(o: PerfOptions): RunningPerf {
  const outFile = join(o.scratchDir, `dnsperf-${process.pid}-${seq++}.out`);
  const args = ['-s', '127.0.0.1', '-p', String(o.port), '-d', o.file, '-l', String(o.seconds), '-t', '2', '-v',
    '-c', String(o.clients ?? 1), '-q', String(o.outstanding ?? 100)];
  if (o.tcp) args.push('-m', 'tcp');
  if (o.maxRuns !== undefined) args.push('-n', String(o.maxRuns));
  if (o.bufferKiB !== undefined) args.push('-b', String(o.bufferKiB));
  if (o.rate !== undefined) args.push('-Q', String(Math.max(1, Math.round(o.rate))));
  // Verbose lines go straight to a file: reading them live would put the bench on dnsperf's core.
  const fd = openSync(outFile, 'w');
  const child = startChild('dnsperf', o.cpus, 'dnsperf', args, { stdoutFd: fd });
  closeSync(fd);
  const guard = setTimeout(() => void child.stop(1000), (o.seconds + 15) * 1000);
  const exited = child.exited.then(async (code) => {
    clearTimeout(guard);
    await child.stop();
    return code;
  });
  return { outFile, child, exited };
}

export async function runDnsperf(o: PerfOptions): Promise<PerfResult> {
  const cpuBefore = o.targetPid !== undefined ? cpuMicros(o.targetPid) : undefined;
  const { outFile, child, exited } = startDnsperf(o);
  const code = await exited;
  const cpuAfter = o.targetPid !== undefined ? cpuMicros(o.targetPid) : undefined;
  const rss = o.targetPid !== undefined ? rssMiB(o.targetPid) : undefined;
  try {
    const parsed = await parseDnsperfOutput(outFile);
    if (code !== 0 || parsed.sent === 0) {
      throw new Error(`dnsperf exited ${String(code)} having sent ${parsed.sent} queries: ${child.output().slice(-2000)}`);
    }
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined && parsed.completed > 0
      ? (cpuAfter - cpuBefore) / parsed.completed : undefined;
    return { ...parsed, cpuUsPerQuery: cpu, rssMiB: rss };
  } finally {
    rmSync(outFile, { force: true });
  }
}

const MAX_US = 200_000;

/** Called for each query in dnsperf's verbose output, rcode 'T' for one that timed out (the soak checks them all). */
export type AnswerSink = (rcode: string, name: string, qtype: string) => void;

/** dnsperf's "Statistics:" block plus p50/p99 from its per-query verbose lines ("> NOERROR name A 0.000222"). */
export async function parseDnsperfOutput(file: string, onAnswer?: AnswerSink): Promise<Omit<PerfResult, 'cpuUsPerQuery' | 'rssMiB'>> {
  const hist = new Uint32Array(MAX_US + 1);
  let samples = 0;
  const summary: string[] = [];
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith('> T ')) {
      const fields = line.split(' ');
      onAnswer?.('T', fields[2] ?? '', fields[3] ?? '');
    } else if (line.startsWith('> ')) {
      const sp = line.lastIndexOf(' ');
      const sec = Number(line.slice(sp + 1));
      const fields = line.split(' ');
      if (!Number.isFinite(sec) || fields.length < 5) continue;
      onAnswer?.(fields[1] as string, fields[2] as string, fields[3] as string);
      hist[Math.min(MAX_US, Math.round(sec * 1e6))]! += 1;
      samples++;
    } else {
      summary.push(line);
    }
  }
  return { ...parseSummary(summary.join('\n')), p50Ms: percentile(hist, samples, 0.5), p99Ms: percentile(hist, samples, 0.99) };
}

function percentile(hist: Uint32Array, samples: number, q: number): number {
  if (samples === 0) return NaN;
  const rank = Math.ceil(q * samples);
  let seen = 0;
  for (let us = 0; us < hist.length; us++) {
    seen += hist[us] ?? 0;
    if (seen >= rank) return us / 1000;
  }
  return MAX_US / 1000;
}

export function parseSummary(text: string): Omit<PerfResult, 'cpuUsPerQuery' | 'rssMiB' | 'p50Ms' | 'p99Ms'> {
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const rcodes: Record<string, number> = {};
  const codes = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
  for (const m of codes.matchAll(/([A-Z]+)\s+(\d+)\s+\(/g)) rcodes[m[1] as string] = Number(m[2]);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/) || 0,
    completed: num(/Queries completed:\s+(\d+)/) || 0,
    lost: num(/Queries lost:\s+(\d+)/) || 0,
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes,
  };
}
