// The upstream forwarder: asks recursors in turn and relays the first good reply, or answers SERVFAIL.
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Query } from '../dns/records.js';
import {
  buildRelayedReply, fullRcode, isTruncated, parseQuestion, parseWireMessage, replySizeLimit, sameQuestion,
  toWireName, type RelayClient, type WireMessage, type WireQuestion,
} from '../dns/relay.js';
import { noopMetrics, type DnsMetrics } from '../metrics/types.js';
import { cacheKey, createForwardCache, type ForwardCache, type ForwardCacheOptions } from './cache.js';
import type { ExchangeOptions, ExchangeResult, UpstreamAddress } from './exchange.js';
import { buildServfail, buildUpstreamQuery } from './messages.js';
import { createWarnLimiter, defaultBudgetMs, orderUpstreams, type Strategy } from './policy.js';
import { exchangeTcp } from './upstream-tcp.js';
import { exchangeUdp } from './upstream-udp.js';

export interface ForwarderOptions {
  readonly upstreams: readonly UpstreamAddress[];
  /** Per try (dns_config.recursor_timeout). */
  readonly timeoutMs: number;
  readonly strategy: Strategy;
  /** Whole answer bound; default min(4000, timeoutMs × upstreams × 2). */
  readonly totalBudgetMs?: number;
  /** Lower-case FQDNs we are authoritative for (domain, alt_domain). */
  readonly zones: readonly string[];
  /** Ours, advertised upstream and to clients (1232). */
  readonly udpPayloadSize: number;
  /**
   * Forwards waiting on an upstream at once (default 1024); each holds one socket. When full, a forward is
   * answered SERVFAIL at once, so a silent upstream cannot exhaust the process's file descriptors.
   */
  readonly maxInFlight?: number;
  /**
   * The answer cache (dns_config.forward_cache; TTLs in seconds). Absent or false: every query goes
   * upstream, and identical queries in flight are not merged either.
   */
  readonly cache?: ForwardCacheOptions | false;
  readonly metrics?: DnsMetrics;
  readonly logger: Logger;
}

export interface Forwarder {
  /**
   * The bytes to send to the client: at once (a Buffer) on a cache hit, else a Promise that never rejects
   * (failure → SERVFAIL with RA=1). A hit never waits on a promise, like the in-zone path. `key` is
   * cacheKey(query) when the caller already holds it (the router keeps it per name, so a hit builds no string).
   */
  forward(query: Query, key?: string): Buffer | Promise<Buffer>;
  /**
   * The cached reply for `query`, never an upstream query: for clients that asked for no recursion (RD=0,
   * RFC 1034 §4.3.1). Undefined on a miss, and always without a cache.
   */
  peek(query: Query, key?: string): Buffer | undefined;
  close(): Promise<void>;
}

const NOERROR = 0;
const NXDOMAIN = 3;
const WARN_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_IN_FLIGHT = 1024;

type TryOutcome =
  | { readonly ok: true; readonly reply: WireMessage; readonly proto: 'udp' | 'tcp' }
  | { readonly ok: false; readonly reason: string; readonly error?: Error };

/** A reply counts only if it answers exactly what we asked: QR, our ID, one question, the same question. */
function acceptFor(id: number, question: WireQuestion) {
  return (reply: Buffer): WireMessage | undefined => {
    if (reply.length < 12 || (reply[2] ?? 0) < 0x80 || reply.readUInt16BE(0) !== id) return undefined;
    if (reply.readUInt16BE(4) !== 1) return undefined;
    const msg = parseWireMessage(reply);
    const q = msg?.questions[0];
    return msg && q && sameQuestion(q, question) ? msg : undefined;
  };
}

function relayClient(query: Query): RelayClient {
  return {
    id: query.id, rd: query.rd, cd: query.cd, question: query.raw.subarray(12, query.questionEnd),
    ...(query.edns ? { edns: query.edns } : {}),
  };
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const log = opts.logger;
  const metrics = opts.metrics ?? noopMetrics;
  const budgetMs = opts.totalBudgetMs ?? defaultBudgetMs(opts.timeoutMs, opts.upstreams.length);
  const zones = opts.zones.map(toWireName);
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const cache: ForwardCache | undefined = opts.cache
    ? createForwardCache({ ...opts.cache, zones, udpPayloadSize: opts.udpPayloadSize })
    : undefined;
  const controller = new AbortController();
  // Every exchange listens for abort on this one signal, and a forward runs one exchange at a time, so
  // maxInFlight listeners is the legitimate peak; Node's warning past it would then mean a real leak.
  setMaxListeners(maxInFlight, controller.signal);
  /** Upstream fetches running; each holds a socket, so only these count against maxInFlight. */
  const inflight = new Set<Promise<WireMessage | undefined>>();
  /** The fetch each cache key is waiting on, so identical queries share one upstream query. */
  const pending = new Map<string, Promise<WireMessage | undefined>>();
  const warnLimit = createWarnLimiter(WARN_INTERVAL_MS);
  const fullLimit = createWarnLimiter(WARN_INTERVAL_MS);

  async function exchange(proto: 'udp' | 'tcp', up: UpstreamAddress, query: Query, question: WireQuestion,
    deadline: number): Promise<ExchangeResult<WireMessage>> {
    // A fresh ID per upstream query, never reused across tries (RFC 5452).
    const id = randomInt(65536);
    const x: ExchangeOptions<WireMessage> = {
      upstream: up,
      message: buildUpstreamQuery(query, id, opts.udpPayloadSize),
      accept: acceptFor(id, question),
      timeoutMs: Math.ceil(deadline - performance.now()),
      signal: controller.signal,
    };
    const started = performance.now();
    const r = await (proto === 'udp' ? exchangeUdp(x) : exchangeTcp(x));
    if (r.ok) {
      const rcode = fullRcode(r.value);
      const result = rcode === NOERROR || rcode === NXDOMAIN ? 'reply' : 'rejected';
      metrics.upstream(`${up.address}#${up.port}`, result, (performance.now() - started) / 1000);
    } else if (r.reason !== 'closed') {
      metrics.upstream(`${up.address}#${up.port}`, r.reason, (performance.now() - started) / 1000);
    }
    return r;
  }

  async function tryUpstream(up: UpstreamAddress, query: Query, question: WireQuestion,
    deadline: number): Promise<TryOutcome> {
    let proto = query.proto;
    let r = await exchange(proto, up, query, question, deadline);
    if (r.ok && proto === 'udp' && isTruncated(r.value)) {
      // The same try's budget covers the TCP retry; a failed retry moves on rather than relay a stub.
      proto = 'tcp';
      r = await exchange(proto, up, query, question, deadline);
    }
    if (!r.ok) return { ok: false, reason: `${proto} ${r.reason}`, ...(r.error ? { error: r.error } : {}) };
    const rcode = fullRcode(r.value);
    if (rcode !== NOERROR && rcode !== NXDOMAIN) return { ok: false, reason: `rcode ${rcode}` };
    return { ok: true, reply: r.value, proto };
  }

  function noteFailure(up: UpstreamAddress, query: Query, outcome: Extract<TryOutcome, { ok: false }>): void {
    const upstream = `${up.address}#${up.port}`;
    const fields = { upstream, qname: query.qname, qtype: query.qtype, reason: outcome.reason, err: outcome.error };
    if (outcome.reason.endsWith('timeout')) {
      const { warn, suppressed } = warnLimit(upstream);
      if (warn) log.warn({ ...fields, suppressed }, 'upstream timed out');
      else log.debug(fields, 'upstream timed out');
    } else {
      log.debug(fields, 'upstream try failed');
    }
  }

  /** The first good upstream reply, or undefined when every try failed (the client then gets SERVFAIL). */
  async function fetch(query: Query): Promise<WireMessage | undefined> {
    const question = parseQuestion(query.raw.subarray(12, query.questionEnd));
    if (!question || controller.signal.aborted) return undefined;
    const started = performance.now();
    const end = started + budgetMs;
    let tries = 0;
    for (const up of orderUpstreams(opts.upstreams, opts.strategy)) {
      const now = performance.now();
      if (now >= end || controller.signal.aborted) break;
      tries++;
      const outcome = await tryUpstream(up, query, question, Math.min(now + opts.timeoutMs, end));
      if (!outcome.ok) {
        noteFailure(up, query, outcome);
        continue;
      }
      log.debug({
        upstream: `${up.address}#${up.port}`, qname: query.qname, qtype: query.qtype, proto: outcome.proto,
        rcode: fullRcode(outcome.reply), tries, ms: Math.round(performance.now() - started),
      }, 'forwarded');
      return outcome.reply;
    }
    log.debug({ qname: query.qname, qtype: query.qtype, tries, ms: Math.round(performance.now() - started) },
      'forward failed: SERVFAIL');
    return undefined;
  }

  /** Fetches, keeps the reply when the cache rules allow, and never rejects. */
  async function fetchAndStore(query: Query, key: string | undefined): Promise<WireMessage | undefined> {
    try {
      const reply = await fetch(query);
      if (reply && cache && key !== undefined) cache.store(key, reply, relayClient(query));
      return reply;
    } catch (err) {
      log.error({ err, qname: query.qname }, 'forwarder failed unexpectedly');
      return undefined;
    }
  }

  /** The client's bytes: from the cache entry when there is one (TTLs counted down), else relayed afresh. */
  function relay(query: Query, reply: WireMessage | undefined, key: string | undefined): Buffer {
    if (!reply) return buildServfail(query, opts.udpPayloadSize);
    const client = relayClient(query);
    const maxSize = replySizeLimit(query.proto, query.edns, opts.udpPayloadSize);
    const cached = cache && key !== undefined ? cache.lookup(key, client, maxSize) : undefined;
    return cached ?? buildRelayedReply(reply, client, { zones, udpPayloadSize: opts.udpPayloadSize, maxSize });
  }

  function safeRelay(query: Query, reply: WireMessage | undefined, key: string | undefined): Buffer {
    try {
      return relay(query, reply, key);
    } catch (err) {
      log.error({ err, qname: query.qname }, 'forwarder failed unexpectedly');
      return buildServfail(query, opts.udpPayloadSize);
    }
  }

  function startFetch(query: Query, key: string | undefined): Promise<WireMessage | undefined> | undefined {
    if (inflight.size >= maxInFlight) {
      const fields = { qname: query.qname, qtype: query.qtype, maxInFlight };
      const { warn, suppressed } = fullLimit('in-flight');
      if (warn) log.warn({ ...fields, suppressed }, 'too many forwards in flight: SERVFAIL');
      else log.debug(fields, 'too many forwards in flight: SERVFAIL');
      return undefined;
    }
    const p = fetchAndStore(query, key);
    inflight.add(p);
    if (key !== undefined) pending.set(key, p);
    void p.then(() => {
      inflight.delete(p);
      if (key !== undefined && pending.get(key) === p) pending.delete(key);
    });
    return p;
  }

  return {
    forward(query: Query, known?: string): Buffer | Promise<Buffer> {
      let key: string | undefined;
      if (cache && !controller.signal.aborted) {
        key = known ?? cacheKey(query);
        const maxSize = replySizeLimit(query.proto, query.edns, opts.udpPayloadSize);
        const hit = cache.hit(key, query, maxSize) ?? cache.lookup(key, relayClient(query), maxSize);
        if (hit) {
          metrics.forwardCache('hit');
          return hit;
        }
        metrics.forwardCache('miss');
      }
      const fetching = (key !== undefined ? pending.get(key) : undefined) ?? startFetch(query, key);
      if (!fetching) return Promise.resolve(buildServfail(query, opts.udpPayloadSize));
      return fetching.then((reply) => safeRelay(query, reply, key));
    },
    // RD=0 (guard): the cache-hit half of forward(), and nothing else.
    peek(query: Query, known?: string): Buffer | undefined {
      if (!cache || controller.signal.aborted) return undefined;
      const key = known ?? cacheKey(query);
      const maxSize = replySizeLimit(query.proto, query.edns, opts.udpPayloadSize);
      const hit = cache.hit(key, query, maxSize) ?? cache.lookup(key, relayClient(query), maxSize);
      metrics.forwardCache(hit ? 'hit' : 'miss');
      return hit;
    },
    async close(): Promise<void> {
      controller.abort();
      await Promise.allSettled([...inflight]);
      cache?.clear();
    },
  };
}
