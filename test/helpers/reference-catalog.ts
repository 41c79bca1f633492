// The catalog of the Consul 1.2.4 capture (digs.txt), built by hand; test/fixtures/reference/ is the same as config files.
import { DEFAULT_RECURSION_ALLOW } from '../../src/config/build.js';
import type { CatalogInput, CatalogNode, Check, ServiceInstance } from '../../src/catalog/types.js';
import type { DnsConfig } from '../../src/config/types.js';
import { DnsClass, RrType } from '../../src/dns/records.js';
import type { Query } from '../../src/dns/records.js';
import type { ResolveContext } from '../../src/resolve/types.js';

/** The resolver context minus its clock and randomness: what a config dir would produce. */
export type CaseContext = Omit<ResolveContext, 'now' | 'random'>;

/** dns_config defaults (consul-dns-semantics.md §11). */
export function defaultDnsConfig(): DnsConfig {
  return {
    nodeTtl: 0,
    serviceTtl: {},
    udpAnswerLimit: 3,
    aRecordLimit: 0,
    enableTruncate: false,
    onlyPassing: false,
    recursorTimeout: 2000,
    recursorStrategy: 'sequential',
    disableCompression: false,
    enableAdditionalNodeMetaTxt: true,
    soa: { refresh: 3600, retry: 600, expire: 86400, minTtl: 0 },
    udpPayloadSize: 1232,
    forwardCache: { enabled: true, size: 10_000, maxTtl: 3600, negativeTtl: 300 },
    recursionAllow: DEFAULT_RECURSION_ALLOW,
    rateLimit: { responsesPerSecond: 0, burst: 0, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56 },
    tcp: { maxConnections: 512, idleTimeout: 10_000, maxInFlight: 16, messageTimeout: 2_000 },
    recursorHealth: { maxFailures: 3, probeInterval: 1_000, maxProbeInterval: 30_000 },
    serveStale: { enabled: true, maxStale: 86_400, ttl: 30 },
  };
}

export function referenceContext(): CaseContext {
  return { domain: 'consul.', recursors: false, dns: defaultDnsConfig() };
}

/** A deterministic [0, 1) source (mulberry32) so shuffles are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function toResolveContext(c: CaseContext, seed = 1, now = 1_796_106_808): ResolveContext {
  return { ...c, now: () => now, random: seededRandom(seed) };
}

export type Client = 'udp' | 'udp-edns' | 'tcp';

/** A query as src/dns/ would decode it; the resolver must never need `raw`. */
export function buildQuery(name: string, qtype: string, client: Client = 'udp-edns', qclass: number = DnsClass.IN): Query {
  const fqdn = name.endsWith('.') ? name : `${name}.`;
  const type = (RrType as Record<string, number>)[qtype] ?? Number(qtype);
  if (!Number.isInteger(type)) throw new Error(`unknown qtype ${qtype}`);
  return {
    id: 1, name: fqdn, qname: fqdn.toLowerCase(), qtype: type, qclass, rd: true, cd: false,
    proto: client === 'tcp' ? 'tcp' : 'udp',
    client: { address: '127.0.0.1', port: 5353 },
    ...(client === 'udp-edns' ? { edns: { udpSize: 1232, version: 0, do: false } } : {}),
    raw: Buffer.alloc(0), questionEnd: 0,
  };
}

export function service(s: Partial<ServiceInstance> & Pick<ServiceInstance, 'service' | 'node' | 'port'>): ServiceInstance {
  return {
    id: s.service,
    kind: 'typical',
    tags: [],
    address: '',
    meta: {},
    weights: { passing: 1, warning: 1 },
    connectNative: false,
    ...s,
  };
}

export function check(c: Partial<Check> & Pick<Check, 'id' | 'node' | 'status'>): Check {
  return { name: c.id, serviceId: '', serviceName: '', notes: '', output: '', type: 'ttl', definition: { ttl: 30_000 }, ...c };
}

export function referenceCatalog(opts: { managedProxyPassing: boolean }): CatalogInput {
  const localNode: CatalogNode = { name: 'ref-node', address: '127.0.0.1', datacenter: 'dc1', meta: {} };
  const node = localNode.name;
  return {
    datacenter: 'dc1',
    localNode,
    nodes: [],
    services: [
      service({ service: 'redis', node, port: 6379 }),
      service({
        id: 'redis-proxy', service: 'redis-proxy', node, port: 20120, kind: 'connect-proxy',
        proxy: {
          destinationServiceName: 'redis', destinationServiceId: 'redis',
          localServiceAddress: '127.0.0.1', localServicePort: 6379,
          config: { bind_port: 20120 }, upstreams: [],
        },
        managed: { type: 'managed', targetServiceId: 'redis', execMode: 'daemon' },
      }),
      service({
        id: 'redis-proxy-ext', service: 'redis-proxy', node, port: 8181, kind: 'connect-proxy',
        proxy: { destinationServiceName: 'redis', config: {}, upstreams: [] },
      }),
      service({ service: 'db', node, port: 5432, connectNative: true }),
      service({ service: 'web', node, port: 8080, tags: ['primary', 'v1'] }),
      service({ id: 'web-bad', service: 'web', node, port: 8081, tags: ['secondary', 'v1'] }),
    ],
    checks: [
      check({
        id: 'service:redis-proxy', name: 'Connect Proxy Listening', node, serviceId: 'redis-proxy', serviceName: 'redis-proxy',
        status: opts.managedProxyPassing ? 'passing' : 'critical', type: 'tcp',
        definition: { tcp: '127.0.0.1:20120', interval: 10_000 },
      }),
      check({ id: 'web-bad-ttl', name: 'never updated TTL', node, serviceId: 'web-bad', serviceName: 'web', status: 'critical' }),
    ],
  };
}
