// What every bench section shares: run lengths, pinning, scratch space, result rows, and one dnsperf call shape.
import { runDnsperf, type PerfOptions, type PerfResult } from './dnsperf.js';
import type { Summary } from './measure.js';
import type { Target } from './targets.js';

export interface BenchContext {
  /** dnsperf -l per measured round. */
  readonly seconds: number;
  readonly rounds: number;
  /** dnsperf -l of the unmeasured warm-up before each scenario's rounds. */
  readonly warmupSeconds: number;
  readonly scratch: string;
  /** CPU list for the servers (connect-dns, ceiling, dnsmasq), and for dnsperf, the upstream and the bench. */
  readonly serverCpus: string | undefined;
  readonly loadCpus: string | undefined;
  readonly quick: boolean;
  log(line: string): void;
}

export interface Row {
  readonly section: 'main' | 'fixed-rate' | 'workers' | 'catalog';
  readonly scenario: string;
  readonly title: string;
  /** connect-dns, ceiling, dnsmasq, or a variant ("connect-dns, 2 workers"). */
  readonly target: string;
  readonly summary: Summary;
  /** qps ÷ the ceiling's qps in the same scenario (or another baseline the section names). */
  readonly ratio?: number;
  readonly note?: string;
}

export type PerfExtra = Omit<PerfOptions, 'port' | 'file' | 'seconds' | 'cpus' | 'targetPid' | 'scratchDir'>;

/** One dnsperf run against `target` from the load CPUs, with its CPU and RSS read. */
export function perf(ctx: BenchContext, target: Target, file: string, seconds: number, extra: PerfExtra = {},
  cpus: string | undefined = ctx.loadCpus): Promise<PerfResult> {
  return runDnsperf({ port: target.port, file, seconds, cpus, targetPid: target.child.pid, scratchDir: ctx.scratch, ...extra });
}
