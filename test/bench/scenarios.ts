// What each side-by-side scenario asks, its dnsperf query files, and the ceiling's precomputed replies for it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { askTcp, buildQuery, createUdpAsker, type QtypeName } from './dns-wire.js';

export type Question = readonly [name: string, qtype: QtypeName];

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Fixed questions (dnsperf loops over them); absent for unique-name scenarios. */
  readonly questions?: readonly Question[];
  /** Unique names per run: how many lines a run of `seconds` needs is computed by the runner. */
  readonly uniqueNames?: (prefix: string, count: number) => string[];
  readonly tcp?: boolean;
  /** The API flips a TTL check every 10 ms while connect-dns is measured. */
  readonly churn?: boolean;
  /**
   * Whether dnsmasq runs it too (it has the same records). Not over TCP: dnsmasq 2.90 forks a child per
   * connection and answered dnsperf's TCP mode at ~60-110 qps here, with losses, whatever -q was.
   */
  readonly dnsmasq: boolean;
  /** The rcode every reply should carry. */
  readonly rcode: 'NOERROR' | 'NXDOMAIN';
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export const MAIN_SCENARIOS: readonly Scenario[] = [
  { id: 'connect-a', title: 'redis.connect.consul A', questions: [['redis.connect.consul', 'A']], dnsmasq: true, rcode: 'NOERROR' },
  { id: 'connect-srv', title: 'redis.connect.consul SRV', questions: [['redis.connect.consul', 'SRV']], dnsmasq: true, rcode: 'NOERROR' },
  { id: 'connect-a-tcp', title: 'redis.connect.consul A, TCP', questions: [['redis.connect.consul', 'A']], tcp: true, dnsmasq: false, rcode: 'NOERROR' },
  { id: 'svc100-udp', title: '100-instance SRV, UDP', questions: [['svc100.service.consul', 'SRV']], dnsmasq: true, rcode: 'NOERROR' },
  { id: 'svc100-tcp', title: '100-instance SRV, TCP', questions: [['svc100.service.consul', 'SRV']], tcp: true, dnsmasq: false, rcode: 'NOERROR' },
  { id: 'nxdomain', title: 'NXDOMAIN (100 names)', questions: range(100).map((i) => [`nope${i}.service.consul`, 'A'] as const), dnsmasq: true, rcode: 'NXDOMAIN' },
  { id: 'forward-hit', title: 'forwarded, cache hit (100 names)', questions: range(100).map((i) => [`www${i}.example.com`, 'A'] as const), dnsmasq: true, rcode: 'NOERROR' },
  {
    id: 'forward-miss', title: 'forwarded, cache miss (unique names)', dnsmasq: true, rcode: 'NOERROR',
    uniqueNames: (prefix, count) => range(count).map((i) => `${prefix}-${i}.miss.example.com A`),
  },
  { id: 'churn', title: 'in-zone miss: catalog changing every 10 ms', questions: [['redis.connect.consul', 'A'], ['redis.connect.consul', 'SRV']], churn: true, dnsmasq: false, rcode: 'NOERROR' },
];

export function writeQuestions(dir: string, name: string, questions: readonly Question[]): string {
  const file = join(dir, `q-${name}.txt`);
  writeFileSync(file, `${questions.map(([n, t]) => `${n} ${t}`).join('\n')}\n`);
  return file;
}

export function writeLines(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, `q-${name}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export interface CeilingTable {
  udp: [string, string][];
  tcp: [string, string][];
  fallbackTail?: string;
}

/** The one answer a unique forwarded name gets from the fast upstream (A 192.0.2.1, TTL 300), as a tail. */
export const FORWARD_TAIL = 'c00c00010001' + '0000012c' + '0004' + 'c0000201';

/**
 * Asks connect-dns every question once, exactly as dnsperf will (UDP, and TCP when `tcp`), and keeps the
 * replies: the ceiling then answers with connect-dns's own bytes, so both send the same sizes.
 */
export async function recordReplies(port: number, questions: readonly Question[], tcp: boolean, into: CeilingTable): Promise<void> {
  const asker = await createUdpAsker(port);
  try {
    for (const [name, qtype] of questions) {
      const q = buildQuery(name, qtype);
      const key = q.subarray(12).toString('hex');
      const udp = await asker.ask(q, 3000);
      if (!udp) throw new Error(`no UDP reply from connect-dns to ${name} ${qtype} while recording the ceiling's replies`);
      into.udp.push([key, udp.toString('hex')]);
      if (tcp) {
        const t = await askTcp(port, q, 3000);
        if (!t) throw new Error(`no TCP reply from connect-dns to ${name} ${qtype} while recording the ceiling's replies`);
        into.tcp.push([key, t.toString('hex')]);
      }
    }
  } finally {
    asker.close();
  }
}
