// A large, deterministic catalog for scale tests and the bench: N instances over S services on N/100 nodes.
import type { CatalogInput, CatalogNode, Check, ServiceInstance } from '../../src/catalog/types.js';

export interface BigCatalogOptions {
  /** Nodes to spread the instances over; default one per 100 instances (at least 1). */
  readonly nodes?: number;
  readonly datacenter?: string;
}

/** The name of service number `s` (0-based): `svc-<s>`. Every tenth service (s % 10 === 9) is the sidecar proxies of the one before. */
export const bigServiceName = (s: number): string => (s % 10 === 9 ? `svc-${s - 1}-sidecar-proxy` : `svc-${s}`);

const ipv4 = (prefix: number, i: number): string => `10.${prefix}.${(i >> 8) & 255}.${i & 255}`;

/**
 * Instance i belongs to service i % services and runs on node i % nodes. Services with s % 10 === 5 are
 * Connect-native; s % 10 === 9 are connect-proxies for service s - 1 (so svc-8.connect has endpoints).
 * Every instance has a TTL check (1 in 20 critical, 1 in 50 warning); every node has a passing node check;
 * one instance in 4 has its own address; tags cycle through primary/secondary/v1/v2.
 */
export function bigCatalog(instances: number, services: number, opts: BigCatalogOptions = {}): CatalogInput {
  const datacenter = opts.datacenter ?? 'dc1';
  const nodeCount = opts.nodes ?? Math.max(1, Math.ceil(instances / 100));
  const nodes: CatalogNode[] = Array.from({ length: nodeCount }, (_, n) => ({
    name: `node-${n}`, address: ipv4(1, n), datacenter, meta: { rack: `r${n % 8}` },
  }));
  const out: ServiceInstance[] = [];
  const checks: Check[] = [];
  for (const n of nodes) {
    checks.push({
      id: 'serfHealth', name: 'Serf Health Status', node: n.name, serviceId: '', serviceName: '', status: 'passing',
      notes: '', output: 'Agent alive and reachable', type: 'static', definition: {},
    });
  }
  for (let i = 0; i < instances; i++) {
    const s = i % services;
    const name = bigServiceName(s);
    const node = (nodes[i % nodeCount] as CatalogNode).name;
    const id = `${name}-${i}`;
    const isProxy = s % 10 === 9;
    out.push({
      id, service: name, node,
      kind: isProxy ? 'connect-proxy' : 'typical',
      tags: [i % 2 === 0 ? 'primary' : 'secondary', `v${1 + (i % 3 === 0 ? 1 : 0)}`],
      address: i % 4 === 0 ? ipv4(2, i % 65536) : '',
      port: isProxy ? 21000 + (i % 1000) : 8000 + (s % 1000),
      meta: {},
      weights: { passing: 1, warning: 1 },
      connectNative: s % 10 === 5,
      ...(isProxy ? { proxy: { destinationServiceName: `svc-${s - 1}`, config: {}, upstreams: [] } } : {}),
    });
    checks.push({
      id: `service:${id}`, name: `Service '${name}' check`, node, serviceId: id, serviceName: name,
      status: i % 20 === 7 ? 'critical' : i % 50 === 3 ? 'warning' : 'passing',
      notes: '', output: '', type: 'ttl', definition: { ttl: 30 },
    });
  }
  return {
    datacenter,
    localNode: { name: 'dns-server', address: '127.0.0.1', datacenter, meta: {} },
    nodes,
    services: out,
    checks,
  };
}
