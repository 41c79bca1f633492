// How long a forwarded reply may be cached: its records' TTLs (RFC 1035), the SOA minimum for negatives (RFC 2308).
import { fullRcode, isTruncated, type WireMessage, type WireRecord } from '../dns/relay.js';

const OPT = 41;
const SOA = 6;
const NOERROR = 0;
const NXDOMAIN = 3;

export interface CacheLimits {
  /** Seconds a positive answer is kept at most. */
  readonly maxTtl: number;
  /** Seconds an NXDOMAIN or NODATA is kept at most. */
  readonly negativeTtl: number;
}

export interface CacheLifetime {
  /** Seconds the reply stays fresh (at least 1). */
  readonly ttl: number;
  /** No record is served with a TTL above this many seconds, before counting down. */
  readonly cap: number;
  readonly negative: boolean;
}

/** RFC 2181 §8: a TTL with the top bit set is read as 0. */
export function normaliseTtl(ttl: number): number {
  return ttl > 0x7fffffff ? 0 : ttl;
}

/** RFC 2308 §5: a negative answer lives for min(SOA TTL, SOA MINIMUM); undefined if the SOA is unreadable. */
function soaNegativeTtl(soa: WireRecord): number | undefined {
  const fixed = soa.rdata[soa.rdata.length - 1];
  if (!fixed || fixed.kind !== 'bytes' || fixed.bytes.length !== 20) return undefined;
  return Math.min(normaliseTtl(soa.ttl), normaliseTtl(fixed.bytes.readUInt32BE(16)));
}

/**
 * Whether and how long `msg` (already stripped of in-zone records) may be cached. Never: truncated replies,
 * rcodes other than NOERROR/NXDOMAIN, negatives without an SOA in authority, and anything whose lifetime
 * comes out as 0 seconds (a TTL of 0 means "do not cache").
 */
export function cacheLifetime(msg: WireMessage, limits: CacheLimits): CacheLifetime | undefined {
  if (isTruncated(msg)) return undefined;
  const rcode = fullRcode(msg);
  if (rcode !== NOERROR && rcode !== NXDOMAIN) return undefined;
  const negative = rcode === NXDOMAIN || msg.answer.length === 0;
  const soa = msg.authority.find((rr) => rr.type === SOA);
  if (negative && !soa) return undefined;
  let cap = negative ? limits.negativeTtl : limits.maxTtl;
  if (soa) {
    // A positive answer carrying an SOA (a CNAME to a NODATA) is partly negative: bound it the same way.
    const fromSoa = soaNegativeTtl(soa);
    if (fromSoa === undefined) return undefined;
    cap = Math.min(cap, limits.negativeTtl, fromSoa);
  }
  let ttl = cap;
  for (const section of [msg.answer, msg.authority, msg.additional]) {
    for (const rr of section) if (rr.type !== OPT) ttl = Math.min(ttl, normaliseTtl(rr.ttl));
  }
  ttl = Math.floor(ttl);
  return ttl >= 1 ? { ttl, cap: Math.floor(cap), negative } : undefined;
}
