// The upstream forwarder: asks healthy recursors in turn and relays the first good reply, else a stale answer
// (RFC 8767) or SERVFAIL.
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Query } from '../dns/records.js';
import {
  buildRelayedReply, fullRcode, isTruncated, parseQuestion, replySizeLimit, toWireName, type RelayClient,
  type WireMessage, type WireQuestion,
} from '../dns/relay.js';
import { noopMetrics, type DnsMetrics } from '../metrics/types.js';
import { cacheKey, createForwardCache, type ForwardCache, type ForwardCacheOptions } from './cache.js';
import type { ExchangeOptions, ExchangeResult, UpstreamAddress } from './exchange.js';
import { createUpstreamHealth, upstreamName, type HealthOptions, type UpstreamState } from './health.js';
import { answerLoopProbe, LOOP_CHECK_SUFFIX, probeForLoop, type LoopCheckResult } from './loop-check.js';
import { acceptFor, buildServfail, buildUpstreamQuery } from './messages.js';
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
  /**
   * Per-upstream health (dns_config.recursor_health): failing upstreams are skipped and probed back. Absent or
   * false: every upstream is asked on every forward.
   */
  readonly health?: HealthOptions | false;
  /**
   * RFC 8767 (dns_config.serve_stale; seconds): when no upstream gives a good reply, an answer up to maxStale
   * past its expiry is served with every TTL set to `ttl`. Needs the cache. Absent or false: SERVFAIL.
   */
  readonly serveStale?: { readonly maxStale: number; readonly ttl: number } | false;
  /** Probe every upstream for a loop back to us, at loopCheck() or the first forward (default false). */
  readonly loopCheck?: boolean;
  /** Milliseconds, monotonic (default performance.now), for health back-off and the cache; tests inject a clock. */
  readonly now?: () => number;
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
  /**
   * Runs the loop check once (later calls return the same promise) and resolves when every probe has settled,
   * within the per-try timeout. Upstreams whose probe came back to us are disabled by then. [] when off.
   */
  loopCheck(): Promise<readonly LoopCheckResult[]>;
  /** Each upstream (address#port) and whether it is asked (up), skipped until a probe (down) or disabled. */
  upstreamStates(): readonly { readonly upstream: string; readonly state: UpstreamState }[];
  close(): Promise<void>;
}

const NOERROR = 0;
const NXDOMAIN = 3;
const WARN_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_IN_FLIGHT = 1024;

type TryOutcome =
  | { readonly ok: true; readonly reply: WireMessage; readonly proto: 'udp' | 'tcp' }
  /** rejected: the upstream answered, with an rcode other than NOERROR/NXDOMAIN. */
  | { readonly ok: false; readonly reason: string; readonly rejected: boolean; readonly error?: Error };

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
  const minTryMs = Math.min(opts.timeoutMs, budgetMs) / 4;
  const zones = opts.zones.map(toWireName);
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const stale = opts.cache && opts.serveStale ? opts.serveStale : undefined;
  const cache: ForwardCache | undefined = opts.cache
    ? createForwardCache({
      ...(opts.now ? { now: opts.now } : {}), ...opts.cache, zones, udpPayloadSize: opts.udpPayloadSize, maxStale: stale?.maxStale ?? 0,
    })
    : undefined;
  // Without health options nothing is marked down, but a loop still disables its upstream.
  const health = createUpstreamHealth(opts.upstreams, {
    ...(opts.health || { maxFailures: Infinity, probeIntervalMs: 1000, maxProbeIntervalMs: 1000 }),
    logger: log, metrics, ...(opts.now ? { now: opts.now } : {}),
  });
  let loopChecked: Promise<readonly LoopCheckResult[]> | undefined;
  /** Background probes of down upstreams (at most one per upstream), awaited by close(). */
  const probing = new Set<Promise<void>>();
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
    if (!r.ok) return { ok: false, reason: `${proto} ${r.reason}`, rejected: false, ...(r.error ? { error: r.error } : {}) };
    const rcode = fullRcode(r.value);
    if (rcode !== NOERROR && rcode !== NXDOMAIN) return { ok: false, reason: `rcode ${rcode}`, rejected: true };
    return { ok: true, reply: r.value, proto };
  }

  function record(up: UpstreamAddress, probe: boolean, query: Query, outcome: TryOutcome): void {
    if (controller.signal.aborted) return;
    if (outcome.ok) health.succeeded(up, probe);
    else health.failed(up, probe, outcome.rejected ? 'rejected' : 'no-reply', `${query.qname}/${query.qtype}`, outcome.reason);
  }

  /** The same question sent to a down upstream beside the real tries: only its health hears the answer. */
  function probeInBackground(up: UpstreamAddress, query: Query, question: WireQuestion): void {
    const p = tryUpstream(up, query, question, performance.now() + opts.timeoutMs).then(
      (outcome) => record(up, true, query, outcome),
      (err: unknown) => log.error({ err, upstream: upstreamName(up) }, 'upstream probe failed unexpectedly'),
    );
    probing.add(p);
    void p.finally(() => probing.delete(p));
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
    const plan = health.plan(orderUpstreams(opts.upstreams, opts.strategy));
    // With an upstream up, probes run beside it and cost the client nothing. With none up, the probes are the
    // only tries; with none due either, the answer is stale or SERVFAIL at once rather than one timeout per
    // query against resolvers known to be failing (clients fail over to their other servers sooner, too).
    const foreground = plan.tries.length === 0;
    if (!foreground) for (const up of plan.probes) probeInBackground(up, query, question);
    let tries = 0;
    const order = foreground ? plan.probes : plan.tries;
    for (const [i, up] of order.entries()) {
      const now = performance.now();
      // A try with under a quarter of its timeout left would mostly time out and count against an upstream
      // that did nothing wrong; the client is better served by the answer (or stale one) we have now.
      if (end - now < minTryMs || controller.signal.aborted) {
        if (foreground) for (const unsent of order.slice(i)) health.unsent(unsent);
        break;
      }
      if (health.state(up) === 'disabled') continue;
      tries++;
      const outcome = await tryUpstream(up, query, question, Math.min(now + opts.timeoutMs, end));
      record(up, foreground, query, outcome);
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
      tries === 0 ? 'no upstream is up: not forwarded' : 'every upstream try failed');
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
    const client = relayClient(query);
    const maxSize = replySizeLimit(query.proto, query.edns, opts.udpPayloadSize);
    if (!reply) {
      const old = stale && cache && key !== undefined ? cache.lookupStale(key, client, maxSize, stale.ttl) : undefined;
      if (old) log.debug({ qname: query.qname, qtype: query.qtype }, 'no upstream answered: served stale');
      return old ?? buildServfail(query, opts.udpPayloadSize);
    }
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

  function loopCheck(): Promise<readonly LoopCheckResult[]> {
    if (!opts.loopCheck) return Promise.resolve([]);
    loopChecked ??= Promise.all(opts.upstreams.map(async (up): Promise<LoopCheckResult> => {
      const upstream = upstreamName(up);
      const outcome = await probeForLoop(up, opts.timeoutMs, controller.signal).catch((err: unknown) => {
        log.error({ err, upstream }, 'loop check failed unexpectedly');
        return 'no-reply' as const;
      });
      if (outcome === 'loop') {
        health.disable(up);
        log.error({ upstream }, 'upstream sends our queries back to this server (a forwarding loop): disabled, never asked');
      } else {
        log.debug({ upstream, outcome }, 'loop check');
      }
      return { upstream, outcome };
    }));
    return loopChecked;
  }

  /** A fresh cached reply for this client (counted as a hit or a miss); no upstream is asked. */
  function fromCache(c: ForwardCache, query: Query, key: string): Buffer | undefined {
    const maxSize = replySizeLimit(query.proto, query.edns, opts.udpPayloadSize);
    const hit = c.hit(key, query, maxSize) ?? c.lookup(key, relayClient(query), maxSize);
    metrics.forwardCache(hit ? 'hit' : 'miss');
    return hit;
  }

  return {
    forward(query: Query, known?: string): Buffer | Promise<Buffer> {
      let key: string | undefined;
      if (cache && !controller.signal.aborted) {
        key = known ?? cacheKey(query);
        const hit = fromCache(cache, query, key);
        if (hit) return hit;
      }
      if (opts.loopCheck) {
        if (query.qname.endsWith(LOOP_CHECK_SUFFIX)) {
          const local = answerLoopProbe(query, opts.udpPayloadSize);
          if (local) return local;
        }
        if (loopChecked === undefined) void loopCheck();
      }
      const fetching = (key !== undefined ? pending.get(key) : undefined) ?? startFetch(query, key);
      if (!fetching) return Promise.resolve(safeRelay(query, undefined, key));
      return fetching.then((reply) => safeRelay(query, reply, key));
    },
    // RD=0 (guard): the cache-hit half of forward(), and nothing else.
    peek(query: Query, known?: string): Buffer | undefined {
      if (!cache || controller.signal.aborted) return undefined;
      return fromCache(cache, query, known ?? cacheKey(query));
    },
    loopCheck,
    upstreamStates: () => opts.upstreams.map((up) => ({ upstream: upstreamName(up), state: health.state(up) })),
    async close(): Promise<void> {
      controller.abort();
      await Promise.allSettled([...inflight, ...probing, ...(loopChecked ? [loopChecked] : [])]);
      cache?.clear();
    },
  };
}
