// The soak's good queries: a fixed mix of in-zone, NXDOMAIN and forwarded names, and the rcodes each may get.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Instances of this service come and go through the API during the soak, so either rcode is right. */
export const CHURN_SERVICE = 'churn';

/**
 * One cycle of 20 lines: 10 in-zone (connect, service, node, the churned service), 3 NXDOMAIN, 5 forwarded
 * names that stay cached (100 distinct, so all hit after the first pass) and 2 unique forwarded names, which
 * miss the cache and reach the fake upstream. `j` spreads the node and forwarded names over 100 values.
 */
function cycle(j: number, miss: () => string): string[] {
  const k = j % 100;
  return [
    'redis.connect.consul A', 'redis.connect.consul SRV', 'svc100.service.consul SRV', 'redis.service.consul A',
    'flapper.service.consul SRV', `n${k}.node.consul A`, 'redis.connect.consul A', `${CHURN_SERVICE}.service.consul SRV`,
    'redis.connect.consul SRV', `n${(k * 7) % 100}.node.dc1.consul A`,
    `nope${k}.service.consul A`, `nonode${k}.node.consul A`, `nope${k}.service.consul AAAA`,
    `www${k}.example.com A`, `www${(k + 31) % 100}.example.com A`, `www${(k + 62) % 100}.example.com A`,
    `www${(k + 17) % 100}.example.com AAAA`, `www${(k + 83) % 100}.example.com A`,
    miss(), miss(),
  ];
}

export const MIX_SHARES = { inZone: 10, nxdomain: 3, forwardHit: 5, forwardMiss: 2 } as const;

/** `count` lines (rounded up to whole cycles); unique names carry `prefix`, so no two files share a miss. */
export function mixLines(prefix: string, count: number): string[] {
  const out: string[] = [];
  let n = 0;
  const miss = (): string => `${prefix}-${n++}.miss.example.com A`;
  for (let j = 0; out.length < count; j++) out.push(...cycle(j, miss));
  return out;
}

/** TCP carries the same mix without unique names: the point there is connection handling, not the upstream. */
export function tcpMixLines(): string[] {
  return cycle(0, () => 'www0.example.com A').concat(cycle(50, () => 'www50.example.com A'));
}

export function writeMix(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, `soak-${name}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export const KINDS = ['in-zone', 'churned', 'nxdomain', 'forward-hit', 'forward-miss'] as const;
export type Kind = (typeof KINDS)[number];

export function kindOf(name: string): Kind {
  if (name.endsWith('.miss.example.com')) return 'forward-miss';
  if (name.endsWith('.example.com')) return 'forward-hit';
  if (name.startsWith('nope') || name.startsWith('nonode')) return 'nxdomain';
  return name.startsWith(`${CHURN_SERVICE}.`) ? 'churned' : 'in-zone';
}

const EITHER = ['NOERROR', 'NXDOMAIN'] as const;
const NOERROR = ['NOERROR'] as const;
const NXDOMAIN = ['NXDOMAIN'] as const;

/** The rcodes a good query for `name` may get (dnsperf prints names without the trailing dot). */
export function expectedRcodes(name: string): readonly string[] {
  if (name.startsWith('nope') || name.startsWith('nonode')) return NXDOMAIN;
  if (name.startsWith(`${CHURN_SERVICE}.`)) return EITHER;
  return NOERROR;
}
