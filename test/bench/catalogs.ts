// The bench's generated config dirs (main, 100k-instance, 10-instance) and dnsmasq's copy of the same records.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The TTL check the churn scenario flips through the API. */
export const FLAP_CHECK = 'flapper-ttl';
const LOCAL_NODE = 'bench';

function writeDir(dir: string, files: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

function nodeAddress(k: number): string {
  return `10.${1 + (k >> 16)}.${(k >> 8) & 255}.${(k & 255) || 254}`;
}

/**
 * redis (+ an unmanaged proxy on 8181, so redis.connect.consul has one answer), a TTL-checked `flapper`, and
 * `svc100`: 100 instances on 100 nodes; names outside the domain go to `upstreamPort`.
 */
export function writeMainConfig(dir: string, upstreamPort: number): string {
  const nodes = Array.from({ length: 100 }, (_, i) => ({
    node: `n${i}`, address: `10.0.0.${i + 1}`, services: [{ name: 'svc100', port: 9000 }],
  }));
  return writeDir(dir, {
    'agent.json': {
      datacenter: 'dc1', node_name: LOCAL_NODE, recursors: [`127.0.0.1:${upstreamPort}`],
      services: [
        { name: 'redis', port: 6379 },
        { id: 'redis-proxy', name: 'redis-proxy', kind: 'connect-proxy', port: 8181, proxy_destination: 'redis' },
        { name: 'flapper', port: 7000, check: { id: FLAP_CHECK, name: 'flap', ttl: '1h', status: 'passing' } },
      ],
    },
    'nodes.json': { nodes },
  });
}

/** dnsmasq options serving the main config's records as static entries, forwarding example.com upstream. */
export function dnsmasqOptions(port: number, upstreamPort: number): string[] {
  const lines = [
    'no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', `port=${port}`, 'cache-size=10000',
    'dns-forward-max=1000', 'local=/consul/', `server=/example.com/127.0.0.1#${upstreamPort}`, 'pid-file=',
    'log-facility=/dev/null',
    'host-record=redis.connect.consul,127.0.0.1',
    `host-record=${LOCAL_NODE}.node.dc1.consul,127.0.0.1`,
    `srv-host=redis.connect.consul,${LOCAL_NODE}.node.dc1.consul,8181,1,1`,
  ];
  for (let i = 0; i < 100; i++) {
    lines.push(`srv-host=svc100.service.consul,n${i}.node.dc1.consul,9000,1,1`, `host-record=n${i}.node.dc1.consul,10.0.0.${i + 1}`);
  }
  return lines;
}

export const BIG = { services: 10_000, instances: 100_000, nodes: 1000, bigService: 'big', bigCount: 1000 } as const;

/** Instances of s<j>: 9,999 services share 99,000 instances (10 or 9 each); `big` has the other 1,000. */
function countOf(j: number): number {
  return j < 9009 ? 10 : 9;
}

/** 100,000 instances over 10,000 services on 1,000 nodes; s<j> instances sit on distinct nodes. */
export function writeBigConfig(dir: string): string {
  const perNode: { id: string; name: string; port: number }[][] = Array.from({ length: BIG.nodes }, () => []);
  for (let j = 0; j < BIG.services - 1; j++) {
    for (let i = 0; i < countOf(j); i++) perNode[(j * 10 + i) % BIG.nodes]!.push({ id: `s${j}-${i}`, name: `s${j}`, port: 10000 + i });
  }
  for (let i = 0; i < BIG.bigCount; i++) perNode[i % BIG.nodes]!.push({ id: `big-${i}`, name: BIG.bigService, port: 20000 });
  const nodes = perNode.map((services, k) => ({ node: `n${k}`, address: nodeAddress(k), services }));
  return writeDir(dir, {
    'agent.json': { datacenter: 'dc1', node_name: LOCAL_NODE },
    'nodes.json': { nodes },
  });
}

/** 10 instances in all: s1 on 10 nodes, the same answer shape as s1 in the big catalog. */
export function writeSmallConfig(dir: string): string {
  const nodes = Array.from({ length: 10 }, (_, k) => ({
    node: `n${k}`, address: nodeAddress(k), services: [{ id: `s1-${k}`, name: 's1', port: 10000 + k }],
  }));
  return writeDir(dir, { 'agent.json': { datacenter: 'dc1', node_name: LOCAL_NODE }, 'nodes.json': { nodes } });
}

export function bigServiceNames(count: number, seed = 7): string[] {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(`s${x % (BIG.services - 1)}`);
  }
  return out;
}
