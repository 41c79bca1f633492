// One query, one way: decode → guard → reply cache or resolve in-zone (synchronously) or forward → encode.
import type { Logger } from 'pino';
import type { PreparedQuery, Snapshot } from './catalog/types.js';
import { decodeQuery, encodeAnswer, encodeRcode, maxReplySize, type EncodeOptions } from './dns/codec.js';
import { DnsClass, Rcode, RrType, type Query, type Transport } from './dns/records.js';
import {
  buildReplyKey, DEFAULT_REPLY_CACHE_LIMITS, hasMixedCase, patchReply, ReplyCache, SHUFFLE_VARIANTS, toCanonicalQuery,
  withQuestionCase, type ReplyCacheLimits, type ReplyEntry,
} from './dns/reply-cache.js';
import type { QueryHandler } from './dns/server.js';
import { cacheKey } from './forward/cache.js';
import type { Forwarder } from './forward/forwarder.js';
import { OPEN_GUARD, type Guard } from './guard/guard.js';
import { RateDecision } from './guard/rate-limit.js';
import { buildMinimalAnyReply, buildSlipReply } from './guard/replies.js';
import { noopMetrics, type CacheOutcome, type DnsMetrics, type GuardAction, type QueryZone } from './metrics/types.js';
import { resolveQuery } from './resolve/resolve.js';
import type { Resolution, ResolveContext } from './resolve/types.js';
import { findZone } from './resolve/zone.js';

/**
 * Settings are read through getters on each query, so a reload takes effect without rebuilding the router.
 * A getter should keep returning the same object until its settings change: a new context or encode object
 * (like a new snapshot version) starts an empty reply cache.
 */
export interface RouterOptions {
  readonly snapshot: () => Snapshot;
  readonly context: () => ResolveContext;
  readonly encode: () => EncodeOptions;
  readonly forwarder: () => Forwarder | undefined;
  /** Who may use forwarding and the UDP rate limiter (src/guard/); default OPEN_GUARD: everyone, no limit. */
  readonly guard?: () => Guard;
  readonly logger: Logger;
  readonly metrics?: DnsMetrics;
  /** Encoded in-zone replies per snapshot version; default DEFAULT_REPLY_CACHE_LIMITS, false = off. */
  readonly cache?: ReplyCacheLimits | false;
}

/** What one resolution revealed about its answer's inputs beyond the cache key. */
interface Probe {
  /** ctx.random calls: the answer was shuffled. */
  draws: number;
  /** The second ctx.now() gave (an SOA serial is in the bytes), else -1. */
  second: number;
  /** A prepared query sorted by the client's address (Near "_ip") was looked up. */
  client: boolean;
}

/** The settings a cache generation was built for; any change starts an empty cache. */
interface Generation {
  readonly version: number;
  readonly ctx: ResolveContext;
  readonly encode: EncodeOptions;
  /** ctx with random and now reporting into the probe. */
  readonly probed: ResolveContext;
  /** Some prepared query sorts by the client's address, so answers may differ per client. */
  readonly clientSensitive: boolean;
}

function probeContext(ctx: ResolveContext, probe: Probe): ResolveContext {
  return {
    ...ctx,
    random: () => { probe.draws += 1; return ctx.random(); },
    now: () => { const t = ctx.now(); probe.second = Math.floor(t); return t; },
  };
}

/**
 * The snapshot, reporting when a prepared query sorted by the client's address (Near "_ip") is looked up:
 * such an answer differs per client, so it is not cached. A Proxy costs a little on every call, so it is
 * used only while the catalog holds such a query (and only on a miss).
 */
function probeSnapshot(snapshot: Snapshot, probe: Probe): Snapshot {
  const bound = new Map<PropertyKey, unknown>();
  const preparedQuery = (idOrName: string): PreparedQuery | undefined => {
    const pq = snapshot.preparedQuery(idOrName);
    if (pq?.service.near === '_ip') probe.client = true;
    return pq;
  };
  return new Proxy(snapshot, {
    get(target, prop) {
      if (prop === 'preparedQuery') return preparedQuery;
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let b = bound.get(prop);
      if (b === undefined) bound.set(prop, (b = (v as (...a: unknown[]) => unknown).bind(target)));
      return b;
    },
  });
}

/**
 * Whether a template built from the lower-case question, patched to the upper-case one, is exactly what a
 * fresh encode of the upper-case question gives (same shuffle and clock). If every name compressed into the
 * question follows its case there, it does for any mix of cases; otherwise (an `.addr` owner is lower-cased,
 * the SOA owner is the zone as configured) mixed-case questions are answered fresh.
 */
function isSameUnderCase(query: Query, snapshot: Snapshot, ctx: ResolveContext, encode: EncodeOptions): boolean {
  const lower = withQuestionCase(query, 'lower');
  const upper = withQuestionCase(query, 'upper');
  const t = ctx.now();
  const draws: number[] = [];
  const a = resolveQuery(lower, snapshot, { ...ctx, now: () => t, random: () => { const r = ctx.random(); draws.push(r); return r; } });
  let i = 0;
  const b = resolveQuery(upper, snapshot, { ...ctx, now: () => t, random: () => draws[i++] ?? 0 });
  if (a.kind !== 'answer' || b.kind !== 'answer') return false;
  return patchReply(encodeAnswer(lower, a.answer, encode), upper).equals(encodeAnswer(upper, b.answer, encode));
}

function zoneOf(query: Query, ctx: ResolveContext): QueryZone {
  if (query.qclass !== DnsClass.IN && query.qclass !== DnsClass.ANY) return 'refused';
  return findZone(query.qname, ctx)?.kind === 'reverse' ? 'arpa' : 'domain';
}

const FORWARD = { kind: 'forward' } as const;
const REFUSED = { kind: 'refused' } as const;

const rcodeOf = (reply: Buffer): number => (reply.length >= 4 ? (reply[3] as number) & 0x0f : Rcode.SERVFAIL);

export function createQueryHandler(opts: RouterOptions): QueryHandler {
  const { logger } = opts;
  const debug = logger.isLevelEnabled('debug');
  const metrics = opts.metrics ?? noopMetrics;
  // The clock is read only for a real metrics sink, so the default path stays free of it.
  const timed = metrics !== noopMetrics;
  const cache = opts.cache === false ? undefined : new ReplyCache(opts.cache ?? DEFAULT_REPLY_CACHE_LIMITS);
  const probe: Probe = { draws: 0, second: -1, client: false };
  let gen: Generation | undefined;
  const guardOf = opts.guard ?? (() => OPEN_GUARD);
  /** The guard of the query being answered: set as it enters, read synchronously below, so fetched once a query. */
  let guard: Guard = OPEN_GUARD;

  const done = (zone: QueryZone, qtype: number, rcode: number, proto: Transport, start: bigint, outcome: CacheOutcome): void => {
    metrics.query(zone, qtype, rcode, proto, Number(process.hrtime.bigint() - start) / 1e9, outcome);
  };

  const generation = (snapshot: Snapshot, ctx: ResolveContext, encode: EncodeOptions, c: ReplyCache): Generation => {
    if (gen !== undefined && gen.version === snapshot.version && gen.ctx === ctx && gen.encode === encode) return gen;
    c.clear();
    gen = {
      version: snapshot.version, ctx, encode, probed: probeContext(ctx, probe),
      clientSensitive: snapshot.preparedQueries().some((q) => q.service.near === '_ip'),
    };
    return gen;
  };

  const refuse = (query: Query, encode: EncodeOptions, start: bigint, action?: GuardAction, ra = encode.ra): Buffer => {
    if (action !== undefined) metrics.guard?.(action, query.proto);
    if (timed) done('refused', query.qtype, Rcode.REFUSED, query.proto, start, 'none');
    return encodeRcode(query, Rcode.REFUSED, ra === encode.ra ? encode : { ...encode, ra });
  };

  /** Refused or forwarded: never cached. */
  const outOfZone = (res: Exclude<Resolution, { kind: 'answer' }>, query: Query, encode: EncodeOptions, start: bigint,
    forwardKey?: string): Buffer | Promise<Buffer> => {
    // The resolver only asks to forward when recursors exist; without a forwarder, refuse.
    const forwarder = res.kind === 'forward' ? opts.forwarder() : undefined;
    if (forwarder === undefined) return refuse(query, encode, start);
    // No open resolver: outside recursion_allow, neither upstreams nor their cached answers are offered, and
    // RA=0 says recursion is not available to this client (BIND's allow-recursion does the same).
    if (!guard.acl.allows(query.client.address)) return refuse(query, encode, start, 'recursion-refused', false);
    if (query.qtype === RrType.ANY && query.proto === 'udp') {
      // RFC 8482 §4.2: a few bytes instead of whatever the name holds; over TCP ANY is forwarded as asked.
      metrics.guard?.('any-minimal', 'udp');
      if (timed) done('forward', query.qtype, Rcode.NOERROR, 'udp', start, 'none');
      return buildMinimalAnyReply(query, encode, guard.anyTtl);
    }
    if (!query.rd) {
      // RD=0 asks us not to recurse (RFC 1034 §4.3.1): the cache may answer; we hold no referral to give
      // instead, so a miss is refused by policy (RCODE 5), RA still saying recursion is there when asked.
      const cached = forwarder.peek(query, forwardKey);
      if (cached === undefined) return refuse(query, encode, start, 'norecurse-refused');
      metrics.guard?.('norecurse-cached', query.proto);
      if (timed) done('forward', query.qtype, rcodeOf(cached), query.proto, start, 'none');
      return cached;
    }
    const pending = forwarder.forward(query, forwardKey);
    if (!timed) return pending;
    if (Buffer.isBuffer(pending)) {
      done('forward', query.qtype, rcodeOf(pending), query.proto, start, 'none');
      return pending;
    }
    return pending.then((reply) => {
      done('forward', query.qtype, rcodeOf(reply), query.proto, start, 'none');
      return reply;
    });
  };

  const uncached = (query: Query, snapshot: Snapshot, ctx: ResolveContext, encode: EncodeOptions, start: bigint,
    outcome: CacheOutcome): Buffer | Promise<Buffer> => {
    const res = resolveQuery(query, snapshot, ctx);
    if (res.kind !== 'answer') return outOfZone(res, query, encode, start);
    const out = encodeAnswer(query, res.answer, encode);
    if (timed) done(zoneOf(query, ctx), query.qtype, res.answer.rcode, query.proto, start, outcome);
    return out;
  };

  /** Decided once per entry, on the first mixed-case question it meets. */
  const caseSafe = (entry: ReplyEntry, query: Query, snapshot: Snapshot, ctx: ResolveContext, encode: EncodeOptions): boolean =>
    (entry.caseSafe ??= isSameUnderCase(query, snapshot, ctx, encode));

  const answer = (query: Query, encode: EncodeOptions, start: bigint): Buffer | Promise<Buffer> => {
    const snapshot = opts.snapshot();
    const ctx = opts.context();
    if (cache === undefined) return uncached(query, snapshot, ctx, encode, start, 'none');
    const g = generation(snapshot, ctx, encode, cache);
    // Without compression, owner names are written out in the case asked, so each case is its own entry.
    const key = buildReplyKey(query, maxReplySize(query, encode), !encode.compress);
    let entry: ReplyEntry | undefined = cache.get(key);
    if (entry?.outside !== undefined) {
      return outOfZone(entry.outside === 'forward' ? FORWARD : REFUSED, query, encode, start, entry.forwardKeys?.[query.cd ? 1 : 0]);
    }
    if (entry !== undefined && entry.second >= 0 && entry.second !== Math.floor(ctx.now())) {
      cache.delete(key);
      entry = undefined;
    }
    // With compression, one entry serves every case of a name, when patching the question's case is enough.
    const mixed = encode.compress && hasMixedCase(query);
    if (entry !== undefined && entry.variants.length >= entry.want) {
      if (mixed && !caseSafe(entry, query, snapshot, ctx, encode)) return uncached(query, snapshot, ctx, encode, start, 'miss');
      const template = entry.variants[entry.next] as Buffer;
      entry.next = (entry.next + 1) % entry.want;
      if (timed) done(entry.zone, query.qtype, entry.rcode, query.proto, start, 'hit');
      return patchReply(template, query);
    }

    // A miss, or a shuffled entry still collecting its orders: resolve and encode the canonical-case question.
    const canonical = mixed ? toCanonicalQuery(query) : query;
    probe.draws = 0;
    probe.second = -1;
    probe.client = false;
    const res = resolveQuery(canonical, g.clientSensitive ? probeSnapshot(snapshot, probe) : snapshot, g.probed);
    if (res.kind !== 'answer') {
      const outside = outOfZone(res, query, encode, start);
      // A marker is worth its memory only for a name asked again: a refusal, or a name the forward cache already
      // answers (a synchronous reply). A flood of one-off names (each a forward-cache miss) leaves none.
      if (!probe.client && (res.kind === 'refused' || Buffer.isBuffer(outside))) {
        cache.addOutside(key, res.kind, res.kind === 'forward' ? [cacheKey(query, false), cacheKey(query, true)] : undefined);
      }
      return outside;
    }
    const out = encodeAnswer(canonical, res.answer, encode);
    const zone = timed ? zoneOf(query, ctx) : 'domain';
    if (!probe.client) {
      const shuffled = probe.draws > 0;
      const second = probe.second >= 0 ? probe.second : shuffled ? Math.floor(ctx.now()) : -1;
      if (entry !== undefined && entry.second === second) cache.addVariant(key, entry, out);
      else cache.add(key, out, { want: shuffled ? SHUFFLE_VARIANTS : 1, second, zone, rcode: res.answer.rcode });
    }
    if (mixed) {
      // The stored template keeps the canonical question; this reply gets the one asked, as a hit would.
      const stored = cache.get(key);
      if (stored === undefined || !caseSafe(stored, query, snapshot, ctx, encode)) return uncached(query, snapshot, ctx, encode, start, 'miss');
      query.raw.copy(out, 12, 12, query.questionEnd);
    }
    if (timed) done(zone, query.qtype, res.answer.rcode, query.proto, start, 'miss');
    return out;
  };

  return (raw: Buffer, proto: Transport, client) => {
    const start = timed ? process.hrtime.bigint() : 0n;
    const encode = opts.encode();
    // EncodeOptions carries udpPayloadSize: passed as the decode options, no object per query.
    const decoded = decodeQuery(raw, proto, client, encode);
    if (decoded.kind === 'drop') {
      if (debug) logger.debug({ proto, client: client.address, reason: decoded.reason }, 'query dropped');
      metrics.dropped(decoded.reason, proto);
      return null;
    }
    guard = guardOf();
    // Rate limiting is for UDP only (TCP proves the source address), and is decided before any work: a
    // limited query is neither resolved nor forwarded.
    if (proto === 'udp' && guard.limiter !== undefined) {
      const decision = guard.limiter.check(client.address);
      if (decision !== RateDecision.PASS) {
        if (debug) logger.debug({ proto, client: client.address, decision }, 'response rate-limited');
        if (decision === RateDecision.SLIP && decoded.kind === 'query') {
          metrics.guard?.('rate-limit-slip', proto);
          return buildSlipReply(decoded.query, encode);
        }
        metrics.guard?.('rate-limit-drop', proto);
        return null;
      }
    }
    if (decoded.kind === 'error') {
      if (debug) logger.debug({ proto, client: client.address, rcode: decoded.rcode, reason: decoded.reason }, 'bad query');
      if (timed) done('error', 0, decoded.rcode, proto, start, 'none');
      return decoded.reply;
    }
    const query = decoded.query;
    if (debug) logger.debug({ proto, client: client.address, qname: query.name, qtype: query.qtype }, 'query');
    try {
      return answer(query, encode, start);
    } catch (err) {
      logger.error({ err, qname: query.name, qtype: query.qtype }, 'query failed');
      if (timed) done('error', query.qtype, Rcode.SERVFAIL, proto, start, 'none');
      return encodeRcode(query, Rcode.SERVFAIL, encode);
    }
  };
}
