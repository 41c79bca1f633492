// Decodes dns_config: answer shaping, forwarding, its cache and the hardening limits; nothing defaulted yet.
import { ErrorCode } from '../errors.js';
import { IGNORED_DNS } from './ignored-keys.js';
import { defined, MAX_TTL_SECONDS, parsed, TIMER_BOUND, TTL_BOUND, type ObjectReader } from './reader.js';
import type { RateLimitConfig, RecursorHealthConfig, SoaConfig, TcpConfig } from './types.js';
import { parseCidr } from './values.js';

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

export function decodeDns(r: ObjectReader): DnsPart | undefined {
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
