// A richer catalog for the case tables: IPv4/IPv6/hostname addresses, meta, tags, health, weights, 100 `big` nodes.
// test/fixtures/rich/ holds the same catalog as config files (check them together when changing either).
import type { CatalogInput, CatalogNode, Check, ServiceInstance } from '../../src/catalog/types.js';
import { check, defaultDnsConfig, service, type CaseContext } from './reference-catalog.js';

export function richContext(opts: { onlyPassing?: boolean } = {}): CaseContext {
  return {
    domain: 'consul.',
    altDomain: 'alt.example.',
    recursors: false,
    dns: {
      ...defaultDnsConfig(),
      nodeTtl: 7,
      serviceTtl: { '*': 5, db: 10, 'd*': 42 },
      onlyPassing: opts.onlyPassing ?? false,
      soa: { refresh: 3600, retry: 600, expire: 86400, minTtl: 60 },
    },
  };
}

const node = (name: string, address: string, meta: Record<string, string> = {}): CatalogNode =>
  ({ name, address, datacenter: 'lab1', meta });

const proxy = (nodeName: string, port: number, destination: string, id: string): ServiceInstance =>
  service({ id, service: id, node: nodeName, port, kind: 'connect-proxy', proxy: { destinationServiceName: destination, config: {}, upstreams: [] } });

const serviceCheck = (nodeName: string, serviceName: string, status: Check['status'], id = `${serviceName}-ttl`): Check =>
  check({ id, name: `${serviceName} on ${nodeName}`, node: nodeName, serviceId: serviceName, serviceName, status });

export const BIG_COUNT = 100;

export function richCatalog(): CatalogInput {
  const weights = { passing: 10, warning: 1 };
  const big = Array.from({ length: BIG_COUNT }, (_, i) => node(`big-${i + 1}`, `10.1.0.${i + 1}`));
  return {
    datacenter: 'lab1',
    localNode: node('rich-server', '127.0.0.1', { role: 'dns' }),
    nodes: [
      node('alpha', '10.0.0.1'),
      node('beta', '10.0.0.2'),
      node('gamma', '2001:db8::10'),
      node('delta', '10.0.0.4'),
      node('node.with.dots', '10.0.0.5'),
      node('meta-node', '10.0.0.6', { note: 'c`d', 'rfc1035-raw': 'k=v is raw' }),
      node('ext-node', 'host.example.org'),
      ...big,
    ],
    services: [
      service({ service: 'web', node: 'alpha', port: 80, tags: ['v1.2', 'primary'] }),
      service({ service: 'api6', node: 'alpha', port: 8080, address: '2001:db8::20' }),
      service({ service: 'db', node: 'alpha', port: 5432, weights }),
      service({ service: 'dash', node: 'alpha', port: 3000, address: '10.0.0.1' }),
      proxy('alpha', 21000, 'web', 'web-proxy'),
      proxy('alpha', 21002, 'db', 'db-proxy'),
      service({ service: 'web', node: 'beta', port: 80, tags: ['v2'] }),
      service({ service: 'api', node: 'beta', port: 8080, address: '10.0.0.20' }),
      service({ service: 'db', node: 'beta', port: 5432, weights }),
      service({ service: 'extsvc', node: 'beta', port: 443, address: 'ext.example.com' }),
      service({ service: 'alias', node: 'beta', port: 80, address: 'web.service.consul' }),
      service({ service: 'loop', node: 'beta', port: 80, address: 'loop.service.consul' }),
      service({ service: 'ping', node: 'beta', port: 80, address: 'pong.service.consul' }),
      service({ service: 'pong', node: 'beta', port: 80, address: 'ping.service.consul' }),
      proxy('beta', 21000, 'web', 'web-proxy'),
      service({ service: 'web', node: 'gamma', port: 80, tags: ['v1.2'] }),
      service({ service: 'db', node: 'gamma', port: 5432, weights }),
      service({ service: 'native', node: 'gamma', port: 9090, connectNative: true }),
      proxy('gamma', 21000, 'web', 'web-proxy'),
      service({ service: 'web', node: 'delta', port: 80 }),
      service({ service: 'cache', node: 'delta', port: 6379 }),
      service({ service: 'ondots', node: 'node.with.dots', port: 1234 }),
      service({ service: 'metrics', node: 'meta-node', port: 9100 }),
      service({ service: 'legacy', node: 'ext-node', port: 25 }),
      ...big.map((n) => service({ service: 'big', node: n.name, port: 7000 })),
    ],
    checks: [
      serviceCheck('beta', 'web', 'warning'),
      serviceCheck('beta', 'db', 'warning'),
      serviceCheck('gamma', 'db', 'critical'),
      serviceCheck('gamma', 'web-proxy', 'critical'),
      check({ id: 'delta-health', name: 'delta is down', node: 'delta', status: 'critical' }),
    ],
  };
}
