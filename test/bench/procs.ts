// Child processes of the bench: pinned with taskset, each in its own process group, all killed on any exit.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** The last 64 KiB of stdout and stderr, for error messages. */
  output(): string;
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const TASKSET = hasCommand('taskset');
export const canPin = TASKSET;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/** Starts `cmd args` on CPU list `cpus` (e.g. "0"; undefined: not pinned) in a new process group. */
export function startChild(name: string, cpus: string | undefined, cmd: string, args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; stdoutFd?: number; cwd?: string } = {}): Child {
  const [file, argv] = cpus !== undefined && TASKSET ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, [...args]];
  const proc = spawn(file, argv, {
    detached: true, stdio: ['ignore', opts.stdoutFd ?? 'pipe', 'pipe'], env: opts.env ?? process.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-65536);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let running = proc.pid !== undefined;
  void exited.then(() => { running = false; });
  proc.on('error', () => { running = false; });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const pid = proc.pid;
  const child: Child = {
    name, pid, proc, exited,
    output: () => out,
    isRunning: () => running,
    async stop(graceMs = 5000) {
      live.delete(child);
      if (!running) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      killGroup(pid, 'SIGKILL'); // workers or helpers left in the group
    },
  };
  live.add(child);
  return child;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(2000)));
}

/** Kills every child on exit, Ctrl-C, SIGTERM or a crash of the bench itself. */
export function installCleanup(): void {
  process.on('exit', () => {
    for (const c of live) killGroup(c.pid, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** A loopback port free for both UDP and TCP a moment ago (the server binds both on one port). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const s = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => { try { u.close(() => resolve()); } catch { resolve(); } });
    if (ok) return port;
  }
  throw new Error('no free UDP+TCP port on 127.0.0.1');
}

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface StatLine { readonly ppid: number; readonly ticks: number }

function readStat(pid: number): StatLine | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** `pid` and all its live descendants (cluster workers, taskset's exec keeps the pid). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(Number(entry));
    if (!st) continue;
    const list = parents.get(st.ppid) ?? [];
    list.push(Number(entry));
    parents.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0 && out.length < 1000) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(parents.get(p) ?? []));
  }
  return out;
}

/** utime+stime of the tree in microseconds (from /proc/<pid>/stat). */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return (ticks * 1e6) / ticksPerSecond();
}

/** VmRSS of the tree in MiB (from /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch { /* exited meanwhile */ }
  }
  return kb / 1024;
}

/**
 * The kernel's count of UDP datagrams dropped because a socket's receive buffer was full (/proc/net/snmp
 * RcvbufErrors), machine-wide: it tells a server that fell behind from a reply lost elsewhere. undefined: unreadable.
 */
export function udpRcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/);
    const at = names.indexOf('RcvbufErrors');
    return at > 0 && values[at] !== undefined ? Number(values[at]) : undefined;
  } catch {
    return undefined;
  }
}

/** Datagrams dropped on the UDP socket(s) bound to local `port` (/proc/net/udp "drops"); undefined: none found. */
export function udpSocketDrops(port: number): number | undefined {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    let total: number | undefined;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (!f[1]?.endsWith(hex)) continue;
      total = (total ?? 0) + Number(f[f.length - 1]);
    }
    return total;
  } catch {
    return undefined;
  }
}
