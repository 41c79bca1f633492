// Turns the merged parts into the final Config: defaults filled in, cross-file rules checked.
import os from 'node:os';
import { ConfigError, ErrorCode } from '../errors.js';
import { checkCrossKeys, checkPortRange } from './cross-keys.js';
import type { Merged } from './merge.js';
import type { Config, DnsConfig, PreparedQueryDefinition } from './types.js';
import { isLoopback, isWildcard } from './values.js';

export interface BuildEnv {
  readonly hostname?: string;
  /** For tests; default os.networkInterfaces(). */
  readonly networkInterfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

const DEFAULT_PORTS = { dns: 8600, http: 8500, proxyMinPort: 20000, proxyMaxPort: 20255, sidecarMinPort: 21000, sidecarMaxPort: 21255 };

function seconds(ms: number | undefined, fallback: number): number {
  return ms === undefined ? fallback : Math.floor(ms / 1000);
}

/** Consul's choice when advertise_addr is unset, minus its DNS and sockaddr lookups. */
function defaultAdvertise(client: string, env: BuildEnv): string {
  if (isLoopback(client)) return '127.0.0.1';
  if (!isWildcard(client)) return client;
  const ifaces = env.networkInterfaces ?? os.networkInterfaces();
  for (const list of Object.values(ifaces)) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

function buildDns(m: Merged): DnsConfig {
  const d = m.part.dns ?? {};
  const serviceTtl: Record<string, number> = {};
  for (const [k, v] of Object.entries(d.serviceTtl ?? {})) serviceTtl[k] = Math.floor(v / 1000);
  return {
    nodeTtl: seconds(d.nodeTtl, 0),
    serviceTtl,
    udpAnswerLimit: d.udpAnswerLimit ?? 3,
    aRecordLimit: d.aRecordLimit ?? 0,
    enableTruncate: d.enableTruncate ?? false,
    onlyPassing: d.onlyPassing ?? false,
    recursorTimeout: Math.floor(d.recursorTimeout ?? 2000),
    recursorStrategy: d.recursorStrategy ?? 'sequential',
    disableCompression: d.disableCompression ?? false,
    enableAdditionalNodeMetaTxt: d.enableAdditionalNodeMetaTxt ?? true,
    soa: {
      refresh: d.soa?.refresh ?? 3600,
      retry: d.soa?.retry ?? 600,
      expire: d.soa?.expire ?? 86400,
      minTtl: d.soa?.minTtl ?? 0,
    },
    udpPayloadSize: d.udpPayloadSize ?? 1232,
    forwardCache: {
      enabled: d.forwardCache?.enabled ?? true,
      size: d.forwardCache?.size ?? 10_000,
      maxTtl: seconds(d.forwardCache?.maxTtl, 3600),
      negativeTtl: seconds(d.forwardCache?.negativeTtl, 300),
    },
    recursionAllow: d.recursionAllow ?? DEFAULT_RECURSION_ALLOW,
    rateLimit: {
      responsesPerSecond: d.rateLimit?.responsesPerSecond ?? 0,
      burst: d.rateLimit?.burst ?? d.rateLimit?.responsesPerSecond ?? 0,
      slip: d.rateLimit?.slip ?? 2,
      ipv4PrefixLength: d.rateLimit?.ipv4PrefixLength ?? 24,
      ipv6PrefixLength: d.rateLimit?.ipv6PrefixLength ?? 56,
    },
    tcp: {
      maxConnections: d.tcp?.maxConnections ?? 512,
      idleTimeout: d.tcp?.idleTimeout ?? 10_000,
      maxInFlight: d.tcp?.maxInFlight ?? 16,
      messageTimeout: d.tcp?.messageTimeout ?? 2_000,
    },
    recursorHealth: {
      maxFailures: d.recursorHealth?.maxFailures ?? 3,
      probeInterval: d.recursorHealth?.probeInterval ?? 1_000,
      maxProbeInterval: d.recursorHealth?.maxProbeInterval ?? 30_000,
    },
    serveStale: {
      enabled: d.serveStale?.enabled ?? true,
      maxStale: seconds(d.serveStale?.maxStale, 86_400),
      ttl: seconds(d.serveStale?.ttl, 30),
    },
  };
}

/** Loopback, RFC 1918, RFC 6598 (carrier-grade NAT) and unique-local IPv6: networks that are normally one's own. */
export const DEFAULT_RECURSION_ALLOW: readonly string[] = [
  '127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7',
];

/** Names (case-insensitive, as DNS asks) and IDs must each name one query across all files. */
function checkQueries(queries: readonly PreparedQueryDefinition[]): void {
  const seen = new Map<string, PreparedQueryDefinition>();
  for (const q of queries) {
    for (const [what, key] of [['name', `name\u0000${q.name.toLowerCase()}`], ['ID', q.id && `id\u0000${q.id}`]] as const) {
      if (!key) continue;
      const first = seen.get(key);
      if (first) {
        throw new ConfigError(ErrorCode.CONFIG_DUPLICATE_ID, q.source,
          `duplicate prepared query ${what} "${what === 'ID' ? q.id : q.name}" (first at ${first.source.file} ${first.source.key ?? ''})`);
      }
      seen.set(key, q);
    }
  }
}

export function buildConfig(
  m: Merged,
  extra: { env: BuildEnv; files: readonly string[]; ignoredKeys: readonly string[]; logFormat?: 'json' | 'pretty' },
): Config {
  const p = m.part;
  const ports = { ...DEFAULT_PORTS, ...p.ports };
  checkPortRange(m, 'proxy', ports.proxyMinPort, ports.proxyMaxPort);
  checkPortRange(m, 'sidecar', ports.sidecarMinPort, ports.sidecarMaxPort);
  const domain = p.domain ?? 'consul.';
  const clientAddresses = p.clientAddresses ?? ['127.0.0.1'];
  const preparedQueries = p.preparedQueries ?? [];
  checkQueries(preparedQueries);
  const config: Config = {
    datacenter: p.datacenter ?? 'dc1',
    nodeName: p.nodeName ?? extra.env.hostname ?? os.hostname(),
    nodeMeta: p.nodeMeta ?? {},
    domain,
    ...(p.altDomain !== undefined ? { altDomain: p.altDomain } : {}),
    recursors: p.recursors ?? [],
    dnsAddresses: p.dnsAddresses ?? clientAddresses,
    clientAddresses,
    advertiseAddr: p.advertiseAddr ?? defaultAdvertise(clientAddresses[0] ?? '127.0.0.1', extra.env),
    dnsPort: ports.dns,
    ports: {
      proxyMinPort: ports.proxyMinPort,
      proxyMaxPort: ports.proxyMaxPort,
      sidecarMinPort: ports.sidecarMinPort,
      sidecarMaxPort: ports.sidecarMaxPort,
    },
    dns: buildDns(m),
    connect: {
      enabled: p.connect?.enabled ?? true,
      allowManagedRoot: p.connect?.allowManagedRoot ?? false,
      allowManagedApiRegistration: p.connect?.allowManagedApiRegistration ?? false,
      proxyDefaults: { ...p.connect?.proxyDefaults, config: p.connect?.proxyDefaults?.config ?? {} },
    },
    services: p.services ?? [],
    checks: p.checks ?? [],
    nodes: p.nodes ?? [],
    http: { port: ports.http, addresses: p.httpAddresses ?? clientAddresses },
    ...(p.dataDir !== undefined ? { dataDir: p.dataDir } : {}),
    enableScriptChecks: (p.enableScriptChecks ?? false) || (p.enableLocalScriptChecks ?? false),
    ...(p.apiToken !== undefined ? { apiToken: p.apiToken } : {}),
    preparedQueries,
    workers: p.workers ?? 1,
    logLevel: p.logLevel ?? 'info',
    logFormat: extra.logFormat ?? 'json',
    ignoredKeys: extra.ignoredKeys,
    files: extra.files,
  };
  checkCrossKeys(m, config);
  return config;
}
