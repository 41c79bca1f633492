// Starts what the bench measures: connect-dns (the built binary), the Node ceiling, dnsmasq, the fast upstream.
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildQuery, createUdpAsker, parseReplyHeader, type QtypeName, type ReplyHeader } from './dns-wire.js';
import { freeUdpTcpPort, hasCommand, processTree, startChild, type Child } from './procs.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'connect-dns');
const HERE = fileURLToPath(new URL('.', import.meta.url));

export type TargetKind = 'connect-dns' | 'ceiling' | 'dnsmasq';

export interface Target {
  readonly kind: TargetKind;
  readonly port: number;
  readonly child: Child;
  readonly httpPort?: number;
  /** From spawn to the first good answer to the probe. */
  readonly startupMs: number;
  readonly processes: number;
}

export interface Probe {
  readonly name: string;
  readonly qtype: QtypeName;
  /** Default: NOERROR with at least one answer. */
  readonly ok?: (h: ReplyHeader) => boolean;
}

const answered = (h: ReplyHeader): boolean => h.rcode === 0 && h.ancount > 0;

/** Polls `probe` every `everyMs` until it holds; resolves with the ms since `since`, or undefined at the deadline. */
export async function pollAnswer(port: number, probe: Probe, withinMs: number, since = performance.now(),
  everyMs = 1, alive: () => boolean = () => true): Promise<number | undefined> {
  const asker = await createUdpAsker(port);
  const ok = probe.ok ?? answered;
  const query = buildQuery(probe.name, probe.qtype);
  try {
    for (let i = 0; i < 1_000_000 && performance.now() - since < withinMs && alive(); i++) {
      const reply = await asker.ask(query, 200);
      const h = reply ? parseReplyHeader(reply) : undefined;
      if (h && ok(h)) return performance.now() - since;
      await sleep(everyMs);
    }
    return undefined;
  } finally {
    asker.close();
  }
}

async function ready(kind: TargetKind, child: Child, port: number, probe: Probe, since: number, withinMs: number): Promise<number> {
  const ms = await pollAnswer(port, probe, withinMs, since, 2, () => child.isRunning());
  if (ms === undefined) {
    await child.stop(1000);
    throw new Error(`${kind} did not answer ${probe.name} ${probe.qtype} within ${withinMs} ms:\n${child.output().slice(-3000)}`);
  }
  return ms;
}

export interface ConnectDnsOptions {
  readonly configDir: string;
  readonly cpus: string | undefined;
  readonly probe: Probe;
  readonly workers?: number;
  readonly startWithinMs?: number;
  /** More `serve` flags (the soak adds --data-dir). */
  readonly extraArgs?: readonly string[];
}

/** The node flags on a script's `#!/usr/bin/env -S node <flags>` line ([] for a plain `#!… node`). */
export function shebangFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node((?: \S+)*)\s*$/.exec(first);
  return m?.[1] ? m[1].trim().split(/\s+/) : [];
}

export async function startConnectDns(o: ConnectDnsOptions): Promise<Target> {
  const port = await freeUdpTcpPort();
  const httpPort = await freeUdpTcpPort();
  // The node flags of the bin's own `#!/usr/bin/env -S node …` line, so the server runs as a user runs it, with
  // this bench's node. BENCH_NODE_ARGS (space-separated) adds more, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = [...shebangFlags(BIN), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
  const args = [...nodeArgs, BIN, 'serve', '--config-dir', o.configDir, '--client', '127.0.0.1', '--dns-port', String(port),
    '--http-port', String(httpPort), '--log-level', 'warn', ...(o.workers !== undefined ? ['--workers', String(o.workers)] : []), ...(o.extraArgs ?? [])];
  const since = performance.now();
  // BENCH_SERVER_LOG=file: the server's stdout (its log lines, and e.g. --trace-gc output) goes there.
  const log = process.env.BENCH_SERVER_LOG;
  const child = startChild('connect-dns', o.cpus, process.execPath, args, { cwd: ROOT, ...(log ? { stdoutFd: openSync(log, 'a') } : {}) });
  const startupMs = await ready('connect-dns', child, port, o.probe, since, o.startWithinMs ?? 60_000);
  if (o.workers !== undefined && o.workers > 1) {
    // Workers may answer before all of them listen; give the rest a moment to appear.
    for (let i = 0; i < 50 && processTree(child.pid).length < o.workers + 1; i++) await sleep(100);
  }
  return { kind: 'connect-dns', port, child, httpPort, startupMs, processes: processTree(child.pid).length };
}

function tsxScript(name: string): string[] {
  return ['--import', 'tsx', join(HERE, name)];
}

/** The reference responder with `table` (see reference-responder.ts) written to `dir`. */
export async function startCeiling(dir: string, table: unknown, cpus: string | undefined, probe: Probe): Promise<Target> {
  const file = join(dir, 'ceiling-table.json');
  writeFileSync(file, JSON.stringify(table));
  const port = await freeUdpTcpPort();
  const since = performance.now();
  const child = startChild('ceiling', cpus, process.execPath, [...tsxScript('reference-responder.ts'), file, String(port)], { cwd: ROOT });
  const startupMs = await ready('ceiling', child, port, probe, since, 20_000);
  return { kind: 'ceiling', port, child, startupMs, processes: 1 };
}

/** "2.90", or undefined when dnsmasq is not installed. */
export function dnsmasqVersion(): string | undefined {
  if (!hasCommand('dnsmasq')) return undefined;
  const r = spawnSync('dnsmasq', ['--version'], { encoding: 'utf8' });
  return /version\s+(\S+)/i.exec(r.stdout)?.[1] ?? 'unknown';
}

/** dnsmasq with `options` (one conf line each) plus its port; undefined when it is not installed. */
export async function startDnsmasq(dir: string, options: (port: number) => string[], cpus: string | undefined,
  probe: Probe): Promise<Target | undefined> {
  if (!hasCommand('dnsmasq')) return undefined;
  const port = await freeUdpTcpPort();
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(conf, `${options(port).join('\n')}\n`);
  const since = performance.now();
  // keep-in-foreground, not no-daemon: --no-daemon also stops dnsmasq forking for TCP, which would hobble it.
  const child = startChild('dnsmasq', cpus, 'dnsmasq', ['--keep-in-foreground', `--conf-file=${conf}`], { cwd: dir });
  const startupMs = await ready('dnsmasq', child, port, probe, since, 10_000);
  return { kind: 'dnsmasq', port, child, startupMs, processes: 1 };
}

export interface Upstream { readonly port: number; readonly child: Child }

export async function startUpstream(cpus: string | undefined): Promise<Upstream> {
  const port = await freeUdpTcpPort();
  const child = startChild('fast-upstream', cpus, process.execPath, [...tsxScript('fast-upstream.ts'), String(port)], { cwd: ROOT });
  const ms = await pollAnswer(port, { name: 'probe.example.com', qtype: 'A' }, 20_000, performance.now(), 5, () => child.isRunning());
  if (ms === undefined) throw new Error(`fast upstream did not start: ${child.output()}`);
  return { port, child };
}
