// Decodes one parsed config file into a FilePart: every key typed and checked, nothing defaulted yet.
import { ErrorCode } from '../errors.js';
import { decodeChecks } from './decode-check.js';
import { decodeNode } from './decode-node.js';
import { decodeService, readExecMode, readMeta } from './decode-service.js';
import {
  IGNORED_ACL, IGNORED_ACL_TOKENS, IGNORED_ADDRESSES, IGNORED_CONNECT, IGNORED_DNS, IGNORED_PORTS, IGNORED_TOP, IGNORED_TOP_PREFIXES,
} from './ignored-keys.js';
import { decodePreparedQuery } from './prepared-query.js';
import { MAX_TTL_SECONDS, ObjectReader, TIMER_BOUND, TTL_BOUND, type DecodeContext, type Plain } from './reader.js';
import type {
  CheckDefinition, NodeDefinition, PreparedQueryDefinition, RateLimitConfig, RecursorHealthConfig, ServiceDefinition, SoaConfig,
  TcpConfig, Upstream,
} from './types.js';
import {
  parseAdvertiseAddress, parseCidr, parseDatacenter, parseDomain, parseIpList, parseLogLevel, parseRecursor,
  type LogLevel, type Parsed,
} from './values.js';

export interface DnsPart {
  nodeTtl?: number; // ms
  serviceTtl?: Record<string, number>; // ms by lower-cased name
  udpAnswerLimit?: number;
  aRecordLimit?: number;
  enableTruncate?: boolean;
  onlyPassing?: boolean;
  recursorTimeout?: number; // ms
  recursorStrategy?: 'sequential' | 'random';
  disableCompression?: boolean;
  enableAdditionalNodeMetaTxt?: boolean;
  soa?: Partial<Record<keyof SoaConfig, number>>;
  udpPayloadSize?: number;
  forwardCache?: { enabled?: boolean; size?: number; maxTtl?: number; negativeTtl?: number }; // ms
  recursionAllow?: string[];
  rateLimit?: Partial<RateLimitConfig>;
  tcp?: Partial<TcpConfig>; // ms
  recursorHealth?: Partial<RecursorHealthConfig>; // ms
  serveStale?: { enabled?: boolean; maxStale?: number; ttl?: number }; // ms
}

export interface ProxyDefaultsPart {
  execMode?: 'daemon' | 'script';
  daemonCommand?: string[];
  scriptCommand?: string[];
  command?: string[];
  config?: Plain;
}

/** What one file (or the flags) says; absent = not said. Merged in order by mergeParts. */
export interface FilePart {
  datacenter?: string;
  nodeName?: string;
  nodeMeta?: Record<string, string>;
  domain?: string;
  altDomain?: string;
  recursors?: Upstream[];
  /** Per file, not merged: the key each recursor came from (`recursors[1]`), to place a problem found after merging. */
  recursorKeys?: string[];
  clientAddresses?: string[];
  advertiseAddr?: string;
  dnsAddresses?: string[];
  /** http: -1 = the HTTP API is off. */
  ports?: { dns?: number; http?: number; proxyMinPort?: number; proxyMaxPort?: number; sidecarMinPort?: number; sidecarMaxPort?: number };
  dns?: DnsPart;
  connect?: { enabled?: boolean; allowManagedRoot?: boolean; allowManagedApiRegistration?: boolean; proxyDefaults?: ProxyDefaultsPart };
  services?: ServiceDefinition[];
  checks?: CheckDefinition[];
  nodes?: NodeDefinition[];
  logLevel?: LogLevel;
  workers?: number;
  httpAddresses?: string[];
  dataDir?: string;
  enableScriptChecks?: boolean;
  enableLocalScriptChecks?: boolean;
  apiToken?: string;
  preparedQueries?: PreparedQueryDefinition[];
}

function parsed<T>(r: ObjectReader, key: string, text: string | undefined, parse: (t: string) => Parsed<T>): T | undefined {
  if (text === undefined) return undefined;
  const p = parse(text);
  return 'error' in p ? r.fail(ErrorCode.CONFIG_VALUE, key, p.error) : p.value;
}

/** Drops undefined members so merging never overwrites a value with "not said". */
function defined<T extends object>(obj: T): T | undefined {
  const out = Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length > 0 ? out : undefined;
}

function decodeRecursors(r: ObjectReader): Pick<FilePart, 'recursors' | 'recursorKeys'> {
  const list = r.strings('recursors');
  const one = r.string('recursor');
  if (list === undefined && one === undefined) return {};
  const recursorKeys = (list ?? []).map((_, i) => `${r.pathOf('recursors')}[${i}]`);
  const recursors = (list ?? []).map((t, i) => parsed(r, `recursors[${i}]`, t, parseRecursor) as Upstream);
  if (one !== undefined) {
    recursors.push(parsed(r, 'recursor', one, parseRecursor) as Upstream);
    recursorKeys.push(r.pathOf('recursor'));
  }
  return { recursors, recursorKeys };
}

function decodeForwardCache(dns: ObjectReader): DnsPart['forwardCache'] {
  const r = dns.object('forward_cache');
  if (!r) return undefined;
  const part = defined({
    enabled: r.bool('enabled'),
    size: r.int('size', { min: 0, max: 10_000_000 }),
    maxTtl: r.duration('max_ttl', TTL_BOUND),
    negativeTtl: r.duration('negative_ttl', TTL_BOUND),
  });
  r.finish();
  return part;
}

/** A positive timer: zero would mean "at once" for a limit meant to be a wait. */
function positiveDuration(r: ObjectReader, key: string): number | undefined {
  const ms = r.duration(key, TIMER_BOUND);
  if (ms !== undefined && ms < 1) r.fail(ErrorCode.CONFIG_VALUE, key, 'must be at least 1ms');
  return ms;
}

function decodeRateLimit(dns: ObjectReader): DnsPart['rateLimit'] {
  const r = dns.object('rate_limit');
  if (!r) return undefined;
  const part = defined<Partial<RateLimitConfig>>({
    responsesPerSecond: r.int('responses_per_second', { min: 0, max: 1_000_000 }),
    burst: r.int('burst', { min: 0, max: 1_000_000 }),
    slip: r.int('slip', { min: 0, max: 10 }),
    ipv4PrefixLength: r.int('ipv4_prefix_length', { min: 8, max: 32 }),
    ipv6PrefixLength: r.int('ipv6_prefix_length', { min: 16, max: 128 }),
  });
  r.finish();
  return part;
}

function decodeTcp(dns: ObjectReader): DnsPart['tcp'] {
  const r = dns.object('tcp');
  if (!r) return undefined;
  const part = defined<Partial<TcpConfig>>({
    maxConnections: r.int('max_connections', { min: 1, max: 65_535 }),
    idleTimeout: positiveDuration(r, 'idle_timeout'),
    maxInFlight: r.int('max_in_flight', { min: 1, max: 65_535 }),
    messageTimeout: positiveDuration(r, 'message_timeout'),
  });
  r.finish();
  return part;
}

function decodeRecursorHealth(dns: ObjectReader): DnsPart['recursorHealth'] {
  const r = dns.object('recursor_health');
  if (!r) return undefined;
  const part = defined<Partial<RecursorHealthConfig>>({
    maxFailures: r.int('max_failures', { min: 1, max: 1000 }),
    probeInterval: positiveDuration(r, 'probe_interval'),
    maxProbeInterval: positiveDuration(r, 'max_probe_interval'),
  });
  r.finish();
  return part;
}

function decodeServeStale(dns: ObjectReader): DnsPart['serveStale'] {
  const r = dns.object('serve_stale');
  if (!r) return undefined;
  const part = defined({
    enabled: r.bool('enabled'),
    maxStale: r.duration('max_stale', TTL_BOUND),
    ttl: r.duration('ttl', TTL_BOUND),
  });
  r.finish();
  return part;
}

function decodeRecursionAllow(r: ObjectReader): string[] | undefined {
  return r.strings('recursion_allow')?.map((t, i) => parsed(r, `recursion_allow[${i}]`, t, parseCidr) as string);
}

function decodeDns(r: ObjectReader): DnsPart | undefined {
  const count = { min: 0, max: 0xffffffff };
  // SOA timers are RFC 2181 TTL-like values, and min_ttl is also used as a record TTL.
  const seconds = { min: 0, max: MAX_TTL_SECONDS };
  const soaReader = r.object('soa');
  let soa: DnsPart['soa'];
  if (soaReader) {
    soa = defined({
      refresh: soaReader.int('refresh', seconds),
      retry: soaReader.int('retry', seconds),
      expire: soaReader.int('expire', seconds),
      minTtl: soaReader.int('min_ttl', seconds),
    });
    soaReader.finish();
  }
  const ttl = r.durationMap('service_ttl', TTL_BOUND);
  const strategy = r.string('recursor_strategy');
  if (strategy !== undefined && strategy !== 'sequential' && strategy !== 'random') {
    r.fail(ErrorCode.CONFIG_VALUE, 'recursor_strategy', `must be "sequential" or "random", got "${strategy}"`);
  }
  const timeout = r.duration('recursor_timeout', TIMER_BOUND);
  if (timeout !== undefined && timeout < 1) r.fail(ErrorCode.CONFIG_VALUE, 'recursor_timeout', 'must be at least 1ms');
  const part = defined<DnsPart>({
    nodeTtl: r.duration('node_ttl', TTL_BOUND),
    serviceTtl: ttl && Object.fromEntries(Object.entries(ttl).map(([k, v]) => [k.toLowerCase(), v])),
    udpAnswerLimit: r.int('udp_answer_limit', count),
    aRecordLimit: r.int('a_record_limit', count),
    enableTruncate: r.bool('enable_truncate'),
    onlyPassing: r.bool('only_passing'),
    recursorTimeout: timeout,
    recursorStrategy: strategy,
    disableCompression: r.bool('disable_compression'),
    enableAdditionalNodeMetaTxt: r.bool('enable_additional_node_meta_txt'),
    soa,
    udpPayloadSize: r.int('udp_payload_size', { min: 512, max: 4096 }),
    forwardCache: decodeForwardCache(r),
    recursionAllow: decodeRecursionAllow(r),
    rateLimit: decodeRateLimit(r),
    tcp: decodeTcp(r),
    recursorHealth: decodeRecursorHealth(r),
    serveStale: decodeServeStale(r),
  });
  r.ignore(...IGNORED_DNS);
  r.finish();
  return part;
}

function decodeConnect(r: ObjectReader): FilePart['connect'] {
  const proxy = r.object('proxy');
  const allowManagedRoot = proxy?.bool('allow_managed_root');
  const allowManagedApiRegistration = proxy?.bool('allow_managed_api_registration');
  proxy?.finish();
  const d = r.object('proxy_defaults');
  let proxyDefaults: ProxyDefaultsPart | undefined;
  if (d) {
    proxyDefaults = defined<ProxyDefaultsPart>({
      execMode: readExecMode(d),
      daemonCommand: d.strings('daemon_command'),
      scriptCommand: d.strings('script_command'),
      command: d.strings('command'),
      config: d.free('config'),
    });
    d.finish();
  }
  const part = defined({ enabled: r.bool('enabled'), allowManagedRoot, allowManagedApiRegistration, proxyDefaults });
  r.ignore(...IGNORED_CONNECT);
  r.finish();
  return part;
}

/**
 * A bound of a proxy port range. 0 has no meaning here: a proxy given port 0 would have no port at all.
 * (Consul's sidecar_min_port = 0 turns automatic assignment off; connect-dns always assigns, so it is refused.)
 */
function rangePort(r: ObjectReader, key: string): number | undefined {
  const port = r.port(key);
  if (port === 0) {
    r.fail(ErrorCode.CONFIG_VALUE, key, 'must be a port from 1 to 65535 (proxies are given ports from this range), got 0');
  }
  return port;
}

function decodePorts(r: ObjectReader): FilePart['ports'] {
  const part = defined({
    dns: r.port('dns'),
    http: r.int('http', { min: -1, max: 65535 }),
    proxyMinPort: rangePort(r, 'proxy_min_port'),
    proxyMaxPort: rangePort(r, 'proxy_max_port'),
    sidecarMinPort: rangePort(r, 'sidecar_min_port'),
    sidecarMaxPort: rangePort(r, 'sidecar_max_port'),
  });
  r.ignore(...IGNORED_PORTS);
  r.finish();
  return part;
}

/** Consul's ACL settings: only the master token means something here (it guards API writes). */
function decodeAcl(r: ObjectReader): string | undefined {
  const tokens = r.object('tokens');
  // 1.4 named it master, 1.11 initial_management; either is the token that may do everything.
  const master = tokens?.string('master');
  const initial = tokens?.string('initial_management');
  if (master !== undefined && initial !== undefined && master !== initial) {
    tokens?.fail(ErrorCode.CONFIG_VALUE, 'initial_management', 'disagrees with acl.tokens.master (the same token under its newer name)');
  }
  tokens?.ignore(...IGNORED_ACL_TOKENS);
  tokens?.finish();
  r.ignore(...IGNORED_ACL);
  r.finish();
  const token = master ?? initial;
  return token === '' ? undefined : token;
}

export function decodeFile(root: Plain, ctx: DecodeContext): FilePart {
  const r = new ObjectReader(ctx, '', root);
  const addresses = r.object('addresses');
  const dnsAddresses = parsed(r, 'addresses.dns', addresses?.string('dns'), parseIpList);
  const httpAddresses = parsed(r, 'addresses.http', addresses?.string('http'), parseIpList);
  addresses?.ignore(...IGNORED_ADDRESSES);
  addresses?.finish();
  const ports = r.object('ports');
  const dnsConfig = r.object('dns_config');
  const connect = r.object('connect');
  const acl = r.object('acl');
  const aclToken = acl && decodeAcl(acl);
  const legacyToken = r.string('acl_master_token');
  const part = defined<FilePart>({
    datacenter: parsed(r, 'datacenter', r.string('datacenter'), parseDatacenter),
    nodeName: r.string('node_name', { nonEmpty: true }),
    nodeMeta: readMeta(r, 'node_meta'),
    domain: parsed(r, 'domain', r.string('domain'), parseDomain),
    altDomain: parsed(r, 'alt_domain', r.string('alt_domain'), parseDomain),
    ...decodeRecursors(r),
    clientAddresses: parsed(r, 'client_addr', r.string('client_addr'), parseIpList),
    advertiseAddr: parsed(r, 'advertise_addr', r.string('advertise_addr'), parseAdvertiseAddress),
    dnsAddresses,
    ports: ports && decodePorts(ports),
    dns: dnsConfig && decodeDns(dnsConfig),
    connect: connect && decodeConnect(connect),
    services: [
      ...r.objects('service', { single: true, camel: true }),
      ...r.objects('services', { camel: true }),
    ].map(decodeService),
    checks: decodeChecks(r, false),
    nodes: r.objects('nodes', { camel: true }).map(decodeNode),
    logLevel: parsed(r, 'log_level', r.string('log_level'), parseLogLevel),
    workers: r.int('workers', { min: 1, max: 64 }),
    httpAddresses,
    dataDir: r.string('data_dir', { nonEmpty: true }),
    enableScriptChecks: r.bool('enable_script_checks'),
    enableLocalScriptChecks: r.bool('enable_local_script_checks'),
    // acl.tokens.master replaced acl_master_token (1.4); the newer spelling wins when a file has both.
    apiToken: aclToken ?? (legacyToken === '' ? undefined : legacyToken),
    preparedQueries: r.objects('prepared_queries', { camel: true }).map((q) => decodePreparedQuery(q)),
  });
  r.ignore(...IGNORED_TOP);
  r.ignorePrefix(...IGNORED_TOP_PREFIXES);
  r.finish();
  return part ?? {};
}
