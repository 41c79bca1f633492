// The upstream forwarder: asks recursors in turn and relays the first good reply, or answers SERVFAIL.
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Query } from '../dns/records.js';
import {
  buildRelayedReply, fullRcode, isTruncated, parseQuestion, parseWireMessage, replySizeLimit, sameQuestion,
  toWireName, type WireMessage, type WireQuestion,
} from '../dns/relay.js';
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
  readonly logger: Logger;
}

export interface Forwarder {
  /** Resolves to the bytes to send to the client; never rejects (failure → SERVFAIL with RA=1). */
  forward(query: Query): Promise<Buffer>;
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

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const log = opts.logger;
  const budgetMs = opts.totalBudgetMs ?? defaultBudgetMs(opts.timeoutMs, opts.upstreams.length);
  const zones = opts.zones.map(toWireName);
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const controller = new AbortController();
  // Every exchange listens for abort on this one signal, and a forward runs one exchange at a time, so
  // maxInFlight listeners is the legitimate peak; Node's warning past it would then mean a real leak.
  setMaxListeners(maxInFlight, controller.signal);
  const inflight = new Set<Promise<Buffer>>();
  const warnLimit = createWarnLimiter(WARN_INTERVAL_MS);
  const fullLimit = createWarnLimiter(WARN_INTERVAL_MS);

  function exchange(proto: 'udp' | 'tcp', up: UpstreamAddress, query: Query, question: WireQuestion,
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
    return proto === 'udp' ? exchangeUdp(x) : exchangeTcp(x);
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

  async function run(query: Query): Promise<Buffer> {
    const servfail = buildServfail(query, opts.udpPayloadSize);
    const question = parseQuestion(query.raw.subarray(12, query.questionEnd));
    if (!question || controller.signal.aborted) return servfail;
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
      const bytes = buildRelayedReply(outcome.reply, {
        id: query.id, rd: query.rd, cd: query.cd, question: query.raw.subarray(12, query.questionEnd),
        ...(query.edns ? { edns: query.edns } : {}),
      }, { zones, udpPayloadSize: opts.udpPayloadSize, maxSize: replySizeLimit(query.proto, query.edns, opts.udpPayloadSize) });
      log.debug({
        upstream: `${up.address}#${up.port}`, qname: query.qname, qtype: query.qtype, proto: outcome.proto,
        rcode: fullRcode(outcome.reply), tries, ms: Math.round(performance.now() - started),
      }, 'forwarded');
      return bytes;
    }
    log.debug({ qname: query.qname, qtype: query.qtype, tries, ms: Math.round(performance.now() - started) },
      'forward failed: SERVFAIL');
    return servfail;
  }

  return {
    forward(query: Query): Promise<Buffer> {
      if (inflight.size >= maxInFlight) {
        const fields = { qname: query.qname, qtype: query.qtype, maxInFlight };
        const { warn, suppressed } = fullLimit('in-flight');
        if (warn) log.warn({ ...fields, suppressed }, 'too many forwards in flight: SERVFAIL');
        else log.debug(fields, 'too many forwards in flight: SERVFAIL');
        return Promise.resolve(buildServfail(query, opts.udpPayloadSize));
      }
      const p = run(query).catch((err: unknown) => {
        log.error({ err, qname: query.qname }, 'forwarder failed unexpectedly');
        return buildServfail(query, opts.udpPayloadSize);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      return p;
    },
    async close(): Promise<void> {
      controller.abort();
      await Promise.allSettled([...inflight]);
    },
  };
}
