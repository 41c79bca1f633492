// Encoded in-zone replies kept for one catalog generation, served by copying bytes and patching the header and question.
import type { QueryZone } from '../metrics/types.js';
import type { Query } from './records.js';

export interface ReplyCacheLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const DEFAULT_REPLY_CACHE_LIMITS: ReplyCacheLimits = { maxEntries: 50_000, maxBytes: 64 * 1024 * 1024 } as const;

/**
 * How many differently shuffled encodings a shuffled answer keeps, served in turn. Four orders already put a
 * different instance first most of the time; the orders are drawn afresh every second (see `second`).
 */
export const SHUFFLE_VARIANTS = 4;

/** Rough heap cost of an entry and of each stored buffer beyond its bytes, so maxBytes bounds memory, not just payload. */
const ENTRY_OVERHEAD = 256;
/** Markers hold no bytes; one shared empty list (never pushed to: addVariant needs want > 0). */
const NO_VARIANTS: Buffer[] = [];
const VARIANT_OVERHEAD = 96;

export interface ReplyEntry {
  /** Templates: replies to the canonical-case question; ID, RD, CD and the question's case are patched per use. */
  readonly variants: Buffer[];
  /** How many variants to collect before serving them in turn: 1, or SHUFFLE_VARIANTS for shuffled answers. */
  want: number;
  /** Next variant to serve once `want` are collected. */
  next: number;
  /**
   * The wall-clock second (ctx.now()) the entry belongs to, or -1 when its bytes do not depend on time.
   * An answer holding an SOA carries the serial "now", and a shuffled answer should not keep its few
   * orders for long; either is valid only within this second, so a serial never lags more than a
   * second and never goes backwards.
   */
  readonly second: number;
  readonly zone: QueryZone;
  readonly rcode: number;
  /** What this entry counts against maxBytes. */
  bytes: number;
  /**
   * Whether patching a template's question to another case gives exactly the reply a fresh encode would;
   * undefined until a mixed-case query asks (router: isCaseSafe). False when the reply holds names the
   * encoder compressed into the question that do not follow its case (an `.addr` owner, the zone's SOA).
   */
  caseSafe?: boolean;
  /**
   * Set on a marker for a name outside the zones: no bytes are kept, only that this generation sends the
   * query on (forward) or refuses it, so the next such query skips resolving and goes straight there.
   */
  readonly outside?: 'forward' | 'refused';
  /** For a forward marker: the forwarder's cache keys for CD clear and CD set (the reply key ignores CD). */
  readonly forwardKeys?: readonly [string, string];
}

/**
 * The key: everything about a query that changes the reply's bytes, apart from what a hit patches (ID, RD,
 * CD, question case). `udpLimit` is the UDP size actually applied (codec maxReplySize); TCP has its own
 * class (0). The EDNS flags also say whether the client asked for more than 512 bytes, because the
 * udp_answer_limit count cap depends on that even when our own size is 512. `exactCase` keys on the name as
 * asked, for when the reply's bytes depend on its case (compression off: owner names are written out).
 */
export function buildReplyKey(query: Query, udpLimit: number, exactCase: boolean): string {
  const e = query.edns;
  const flags = e === undefined ? 0 : 4 | (e.udpSize > 512 ? 2 : 0) | (e.do ? 1 : 0);
  const size = query.proto === 'tcp' ? 0 : udpLimit;
  // The part after the name comes from a small table, so a hit converts no numbers to text.
  const code = ((query.qtype * 65536 + query.qclass) * 65536 + size) * 8 + flags;
  let suffix = suffixes.get(code);
  if (suffix === undefined) {
    suffix = `|${query.qtype}|${query.qclass}|${size}|${flags}`;
    if (suffixes.size >= MAX_SUFFIXES) suffixes.clear();
    suffixes.set(code, suffix);
  }
  return (exactCase ? query.name : query.qname) + suffix;
}

/** Key suffixes by (qtype, qclass, size class, flags); clients use a handful, garbage may ask for many. */
const suffixes = new Map<number, string>();
const MAX_SUFFIXES = 4096;

/** True when the name as asked has capitals, so the reply must be built from and patched to another case. */
export function hasMixedCase(query: Query): boolean {
  return query.name !== query.qname;
}

/**
 * The same query with its question in one case (name and question bytes), so one template serves every
 * case of a name. Only raw[0, questionEnd) is kept: the encoder reads nothing past the question.
 */
export function withQuestionCase(query: Query, to: 'lower' | 'upper'): Query {
  const end = query.questionEnd;
  const raw = Buffer.allocUnsafe(end);
  query.raw.copy(raw, 0, 0, end);
  // Label length octets are at most 63, below 'A', so only letters change.
  const [from, past, flip] = to === 'lower' ? [0x41, 0x5a, 0x20] : [0x61, 0x7a, -0x20];
  for (let i = 12; i < end - 4; i++) {
    const c = raw[i] as number;
    if (c >= from && c <= past) raw[i] = c + flip;
  }
  return { ...query, name: to === 'lower' ? query.qname : query.qname.toUpperCase(), raw };
}

export function toCanonicalQuery(query: Query): Query {
  return withQuestionCase(query, 'lower');
}

/**
 * A reply for `query` from a template: its ID, its RD and CD bits, and its question bytes (same length as
 * the template's, differing at most in case). Names the encoder compressed into the question then read in
 * the asker's case, which is right only for names that follow the question's case (ReplyEntry.caseSafe).
 */
export function patchReply(template: Buffer, query: Query): Buffer {
  const out = Buffer.allocUnsafe(template.length);
  template.copy(out);
  out[0] = query.id >>> 8;
  out[1] = query.id & 0xff;
  out[2] = ((out[2] as number) & 0xfe) | (query.rd ? 0x01 : 0);
  out[3] = ((out[3] as number) & 0xef) | (query.cd ? 0x10 : 0);
  if (hasMixedCase(query)) query.raw.copy(out, 12, 12, query.questionEnd);
  return out;
}

/**
 * A compact copy in its own memory: what a cache keeps must not be a slice of Node's shared 8 KiB pool, or
 * each long-lived entry would pin a whole slab of otherwise dead replies.
 */
export function ownCopy(buf: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(out);
  return out;
}

/**
 * One generation's entries, bounded in count and bytes; the oldest entries go first (insertion order:
 * an LRU would cost a delete and an insert on every hit). `clear()` swaps in an empty map, O(1), so a new
 * snapshot never costs a walk on the hot path.
 */
export class ReplyCache {
  private map = new Map<string, ReplyEntry>();
  private used = 0;
  readonly limits: ReplyCacheLimits;

  constructor(limits: ReplyCacheLimits = DEFAULT_REPLY_CACHE_LIMITS) {
    this.limits = { maxEntries: Math.max(0, Math.trunc(limits.maxEntries)), maxBytes: Math.max(0, Math.trunc(limits.maxBytes)) };
  }

  get size(): number { return this.map.size; }
  get bytes(): number { return this.used; }

  clear(): void {
    this.map = new Map();
    this.used = 0;
  }

  get(key: string): ReplyEntry | undefined {
    return this.map.get(key);
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.used -= e.bytes;
  }

  /** Stores a new entry holding `reply` as its first variant; returns undefined when it cannot fit at all. */
  add(key: string, reply: Buffer, meta: Pick<ReplyEntry, 'want' | 'second' | 'zone' | 'rcode'>): ReplyEntry | undefined {
    this.delete(key);
    const bytes = key.length + ENTRY_OVERHEAD + reply.length + VARIANT_OVERHEAD;
    if (this.limits.maxEntries === 0 || bytes > this.limits.maxBytes) return undefined;
    this.evict(this.limits.maxEntries - 1, this.limits.maxBytes - bytes, undefined);
    const entry: ReplyEntry = { variants: [ownCopy(reply)], next: 0, bytes, ...meta };
    this.map.set(key, entry);
    this.used += bytes;
    return entry;
  }

  /** Remembers that `key` is outside the zones in this generation (see ReplyEntry.outside). */
  addOutside(key: string, outside: 'forward' | 'refused', forwardKeys?: readonly [string, string]): void {
    this.delete(key);
    const bytes = key.length * 3 + ENTRY_OVERHEAD;
    if (this.limits.maxEntries === 0 || bytes > this.limits.maxBytes) return;
    this.evict(this.limits.maxEntries - 1, this.limits.maxBytes - bytes, undefined);
    this.map.set(key, { variants: NO_VARIANTS, want: 0, next: 0, second: -1, zone: 'forward', rcode: 0, bytes, outside, ...(forwardKeys ? { forwardKeys } : {}) });
    this.used += bytes;
  }

  /** Adds one more shuffled order to `entry`; when even evicting others leaves no room, the entry stops growing. */
  addVariant(key: string, entry: ReplyEntry, reply: Buffer): void {
    if (this.map.get(key) !== entry || entry.variants.length >= entry.want) return;
    const more = reply.length + VARIANT_OVERHEAD;
    this.evict(this.limits.maxEntries, this.limits.maxBytes - more, key);
    if (this.used + more > this.limits.maxBytes) {
      entry.want = entry.variants.length;
      return;
    }
    entry.variants.push(ownCopy(reply));
    entry.bytes += more;
    this.used += more;
  }

  /** Drops the oldest entries (never `keep`) until at most `entries` remain and at most `bytes` are used. */
  private evict(entries: number, bytes: number, keep: string | undefined): void {
    if (this.map.size <= entries && this.used <= bytes) return;
    for (const [k, e] of this.map) {
      if (this.map.size <= entries && this.used <= bytes) return;
      if (k === keep) continue;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }
}
