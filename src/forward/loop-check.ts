// The loop check: a random name sent to each upstream must not come back to this server.
import { randomBytes, randomInt } from 'node:crypto';
import type { Query } from '../dns/records.js';
import { parseQuestion, writeOpt, OPT_SIZE, type WireMessage } from '../dns/relay.js';
import type { UpstreamAddress } from './exchange.js';
import { acceptFor } from './messages.js';
import { exchangeUdp } from './upstream-udp.js';

/**
 * Probe names end here: a top-level label no real zone has, so a resolver that does not loop answers
 * NXDOMAIN, and one that forwards everything (to us) passes it on unchanged. `.invalid` would not do:
 * resolvers such as Unbound answer it locally, which would hide the loop.
 */
export const LOOP_CHECK_SUFFIX = '.connect-dns-loop-check.';
const TAG_ENV = 'CONNECT_DNS_LOOP_TAG';
const TXT = 16;
const QR_RA = 0x8080;
const RD = 0x0100;
const CD = 0x0010;
const MARKER_PREFIX = 'connect-dns loop check ';

/**
 * This server's tag, the second label of every probe name. Kept in the environment because `--workers`
 * processes are forked from this one after it is set: a probe that comes back to any of them is ours, while
 * another connect-dns (a legitimate upstream, say) has its own tag and forwards our probe on like any name.
 */
function serverTag(): string {
  const inherited = process.env[TAG_ENV];
  if (inherited !== undefined && /^[0-9a-f]{16}$/.test(inherited)) return inherited;
  const tag = randomBytes(8).toString('hex');
  process.env[TAG_ENV] = tag;
  return tag;
}
const SERVER_TAG = serverTag();
const MARKER = Buffer.from(MARKER_PREFIX + SERVER_TAG, 'latin1');

/** Probes of this process that are waiting for a reply, by nonce: told when their name reaches our listener. */
const outstanding = new Map<string, () => void>();

export type LoopCheckOutcome = 'loop' | 'clear' | 'no-reply';

export interface LoopCheckResult {
  /** address#port */
  readonly upstream: string;
  /** loop: the probe came back to us (the upstream is disabled); clear: a reply that was not ours; no-reply: unknown. */
  readonly outcome: LoopCheckOutcome;
}

/**
 * The local answer for a probe name carrying our tag: a TXT marker the prober recognises even when the probe
 * landed on another worker; undefined for any other name (forward it as usual). Never forwarded, so a loop
 * costs one round trip, not a chain of forwards.
 */
export function answerLoopProbe(query: Query, udpPayloadSize: number): Buffer | undefined {
  const labels = query.qname.split('.');
  if (labels.length !== 4 || labels[1] !== SERVER_TAG) return undefined;
  outstanding.get(labels[0] ?? '')?.();
  return buildLoopMarker(query, udpPayloadSize);
}

/** The marker reply alone: what a sibling worker, which has no record of the probe, sends back. */
export function buildLoopMarker(query: Query, udpPayloadSize: number): Buffer {
  const question = query.raw.subarray(12, query.questionEnd);
  const rdata = Buffer.concat([Buffer.from([MARKER.length]), MARKER]);
  const rr = Buffer.alloc(12 + rdata.length);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(TXT, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(rdata.length, 10);
  rdata.copy(rr, 12);
  const out = Buffer.alloc(12 + question.length + rr.length + (query.edns ? OPT_SIZE : 0));
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(QR_RA | (query.rd ? RD : 0) | (query.cd ? CD : 0), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 6);
  question.copy(out, 12);
  rr.copy(out, 12 + question.length);
  if (query.edns) {
    out.writeUInt16BE(1, 10);
    writeOpt(out, 12 + question.length + rr.length, udpPayloadSize, query.edns.do);
  }
  return out;
}

function hasMarker(reply: WireMessage): boolean {
  return reply.answer.some((rr) => rr.type === TXT && rr.rdata.some((p) => p.kind === 'bytes' && p.bytes.includes(MARKER)));
}

function buildProbe(id: number, name: string): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0).map((l) => Buffer.from(l, 'latin1'));
  const qname = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
  const out = Buffer.alloc(12 + qname.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(RD, 2);
  out.writeUInt16BE(1, 4);
  qname.copy(out, 12);
  out.writeUInt16BE(TXT, 12 + qname.length);
  out.writeUInt16BE(1, 14 + qname.length);
  return out;
}

/**
 * Sends one probe (a fresh random name, TXT, over UDP) to `up` and waits at most `timeoutMs`. It is a loop
 * when the name reaches this process's forwarder or the reply carries our marker (it reached another worker).
 */
export async function probeForLoop(up: UpstreamAddress, timeoutMs: number, signal: AbortSignal): Promise<LoopCheckOutcome> {
  const nonce = randomBytes(8).toString('hex');
  const id = randomInt(65536);
  const message = buildProbe(id, `${nonce}.${SERVER_TAG}${LOOP_CHECK_SUFFIX}`);
  const question = parseQuestion(message.subarray(12));
  if (!question) throw new Error('loop check: could not build the probe');
  const seen = new AbortController();
  let looped = false;
  outstanding.set(nonce, () => {
    looped = true;
    seen.abort();
  });
  try {
    const r = await exchangeUdp({
      upstream: up, message, accept: acceptFor(id, question), timeoutMs, signal: AbortSignal.any([signal, seen.signal]),
    });
    if (looped) return 'loop';
    if (r.ok) return hasMarker(r.value) ? 'loop' : 'clear';
    return 'no-reply';
  } finally {
    outstanding.delete(nonce);
  }
}
