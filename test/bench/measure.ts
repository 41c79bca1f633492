// Rounds and medians, the catalog-churn loop, and API-registration-to-DNS visibility.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RCODE_NAMES } from './dns-wire.js';
import type { PerfResult } from './dnsperf.js';
import { cpuMicros, rssMiB } from './procs.js';
import { pollAnswer } from './targets.js';

export interface Summary {
  readonly qps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Summed over the rounds. */
  readonly lost: number;
  readonly cpuUsPerQuery: number | undefined;
  readonly rssMiB: number | undefined;
  readonly rcodes: Record<string, number>;
  readonly rounds: number;
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] as number : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export function summarize(rounds: readonly PerfResult[]): Summary {
  const rcodes: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.rcodes)) rcodes[k] = (rcodes[k] ?? 0) + n;
  const cpu = rounds.map((r) => r.cpuUsPerQuery).filter((x): x is number => x !== undefined);
  const rss = rounds.map((r) => r.rssMiB).filter((x): x is number => x !== undefined);
  return {
    qps: median(rounds.map((r) => r.qps)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    lost: rounds.reduce((n, r) => n + r.lost, 0),
    cpuUsPerQuery: cpu.length > 0 ? median(cpu) : undefined,
    rssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
    rcodes,
    rounds: rounds.length,
  };
}

/** `items` rotated by `round`, so no target always runs first (or right after another's warm caches). */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export interface Churn {
  /** Stops the loop; resolves with how many flips were acknowledged and how far X-Consul-Index moved. */
  stop(): Promise<{ flips: number; failures: number; indexDelta: number; seconds: number }>;
}

/** Flips TTL check `checkId` between passing and warning through the agent API every `everyMs`. */
export function startChurn(httpPort: number, checkId: string, everyMs = 10): Churn {
  let running = true;
  let flips = 0;
  let failures = 0;
  let firstIndex: number | undefined;
  let lastIndex: number | undefined;
  const started = performance.now();
  const loop = (async () => {
    for (let i = 0; running && i < 1_000_000; i++) {
      const tick = performance.now();
      const verb = i % 2 === 0 ? 'warn' : 'pass';
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/v1/agent/check/${verb}/${encodeURIComponent(checkId)}?note=flip${i}`, { method: 'PUT' });
        await res.arrayBuffer();
        if (res.ok) flips++;
        else failures++;
        const index = Number(res.headers.get('x-consul-index'));
        if (Number.isFinite(index) && index > 0) {
          firstIndex ??= index;
          lastIndex = index;
        }
      } catch {
        failures++;
      }
      await sleep(Math.max(0, everyMs - (performance.now() - tick)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { flips, failures, indexDelta: (lastIndex ?? 0) - (firstIndex ?? 0), seconds: (performance.now() - started) / 1000 };
    },
  };
}

/**
 * Registers `name` through the API and polls DNS for it every millisecond from the moment the PUT is sent;
 * resolves with the ms until the first answer (undefined if not within `withinMs`).
 */
export async function registrationVisibleMs(httpPort: number, dnsPort: number, name: string, withinMs = 5000): Promise<number | undefined> {
  const since = performance.now();
  const put = fetch(`http://127.0.0.1:${httpPort}/v1/agent/service/register`, {
    method: 'PUT', body: JSON.stringify({ ID: name, Name: name, Port: 4242 }),
  }).then(async (res) => {
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`registering ${name}: HTTP ${res.status}`);
  });
  const seen = pollAnswer(dnsPort, { name: `${name}.service.consul`, qtype: 'A' }, withinMs, since, 1);
  const [ms] = await Promise.all([seen, put]);
  return ms;
}

/**
 * Sequential queries over one TCP connection for `seconds` (at most `maxQueries`): dnsperf 2.10 drops TCP replies
 * this large (a 1,000-instance SRV answer is ~58 KB), so the bench times them itself.
 */
export async function tcpOneAtATime(port: number, query: Buffer, seconds: number, targetPid: number,
  maxQueries = 100_000): Promise<PerfResult> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let have = 0;
  let waiting: ((reply: Buffer | undefined) => void) | undefined;
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    have += d.length;
    const head = chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks);
    if (have < 2 || have < 2 + head.readUInt16BE(0)) return;
    chunks.length = 0;
    have = 0;
    waiting?.(head.subarray(2, 2 + head.readUInt16BE(0)));
  });
  socket.on('error', () => waiting?.(undefined));
  const framed = Buffer.alloc(2 + query.length);
  framed.writeUInt16BE(query.length, 0);
  query.copy(framed, 2);
  const latencies: number[] = [];
  const rcodes: Record<string, number> = {};
  let lost = 0;
  const cpuBefore = cpuMicros(targetPid);
  const started = performance.now();
  for (let i = 0; i < maxQueries && performance.now() - started < seconds * 1000; i++) {
    framed.writeUInt16BE(i & 0xffff, 2);
    const t0 = performance.now();
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      waiting = (r) => { clearTimeout(timer); resolve(r); };
      socket.write(framed);
    });
    if (!reply) { lost++; break; }
    latencies.push(performance.now() - t0);
    const name = RCODE_NAMES[(reply[3] ?? 0) & 0x0f] ?? 'OTHER';
    rcodes[name] = (rcodes[name] ?? 0) + 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpuMicros(targetPid);
  socket.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] as number;
  return {
    qps: latencies.length / elapsed, sent: latencies.length + lost, completed: latencies.length, lost,
    avgMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), p50Ms: at(0.5), p99Ms: at(0.99), rcodes,
    cpuUsPerQuery: latencies.length > 0 ? (cpuAfter - cpuBefore) / latencies.length : undefined, rssMiB: rssMiB(targetPid),
  };
}
