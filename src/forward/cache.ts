// The forward cache: upstream replies kept for their TTL, served to each client with TTLs counted down, and
// kept a while longer for serve-stale (RFC 8767).
import type { Query } from '../dns/records.js';
import { ownCopy } from '../dns/reply-cache.js';
import {
  buildRelayedReply, parseWireMessage, recordTtlOffsets, type RelayClient, type WireMessage, type WireName,
  type WireRecord,
} from '../dns/relay.js';
import { cacheLifetime, normaliseTtl, type CacheLimits } from './cache-lifetime.js';

export interface ForwardCacheOptions extends CacheLimits {
  /** Entries at most. */
  readonly size: number;
  /** Estimated bytes at most (default 32 MiB). */
  readonly maxBytes?: number;
  /** Milliseconds, monotonic (default performance.now); tests inject a clock. */
  readonly now?: () => number;
  /**
   * Seconds an entry is kept past its expiry for lookupStale (serve-stale); 0 or absent: dropped at expiry.
   * Stale entries still count against size and maxBytes and are evicted like any other.
   */
  readonly maxStale?: number;
}

export interface ForwardCacheSettings extends ForwardCacheOptions {
  /** Zones we are authoritative for; their records are stripped before anything is kept. */
  readonly zones: readonly WireName[];
  readonly udpPayloadSize: number;
}

export interface ForwardCache {
  /** The bytes for this client from a fresh entry, TTLs counted down; undefined on a miss. */
  lookup(key: string, client: RelayClient, maxSize: number): Buffer | undefined;
  /**
   * lookup() for a decoded query, serving only a client shape already rendered: the hot path, which builds
   * no RelayClient. undefined means "ask lookup()" (a miss, or the first client of this shape).
   */
  hit(key: string, query: Query, maxSize: number): Buffer | undefined;
  /**
   * The bytes for this client from an entry at most maxStale seconds past expiry (or fresh), every TTL set to
   * `ttl`: the RFC 8767 answer when no upstream could be reached. Undefined when there is none.
   */
  lookupStale(key: string, client: RelayClient, maxSize: number, ttl: number): Buffer | undefined;
  /** Keeps `reply` under `key` when the caching rules allow; returns whether it was kept. */
  store(key: string, reply: WireMessage, client: RelayClient): boolean;
  readonly entries: number;
  readonly bytes: number;
  clear(): void;
}

export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** Client shapes (EDNS or not × size limit) rendered per entry; clients use only a handful. */
const MAX_RENDERS = 4;
/** A rough per-entry cost of the parsed records and bookkeeping, on top of the bytes themselves. */
const ENTRY_OVERHEAD = 256;
const RD_BIT = 0x01;

/** One client shape's reply with ID 0, RD clear and TTLs as stored; a hit copies it and patches. */
interface Render {
  readonly shape: number;
  readonly bytes: Buffer;
  readonly questionLength: number;
  readonly ttlOffsets: readonly number[];
  readonly ttls: readonly number[];
}

interface Entry {
  readonly msg: WireMessage;
  /** Hit since eviction last passed it: it gets a second chance (moved to the young end) instead of going. */
  used: boolean;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** expiresAt plus maxStale: until then the entry is kept for lookupStale. */
  readonly staleUntil: number;
  readonly renders: Render[];
  size: number;
}

/**
 * What identifies an answer: the question's name lower-cased, qtype and qclass, and the DO and CD bits, which
 * change what a recursor returns. The decoder accepts only printable, dot-free label bytes (decode.ts
 * parseQuestion), so the dotted text names one wire name exactly and two names never collide.
 */
export function cacheKey(query: Query, cd: boolean = query.cd): string {
  const bits = (query.edns?.do ? 1 : 0) | (cd ? 2 : 0);
  return `${query.qname}|${query.qtype}|${query.qclass}|${bits}`;
}

function capped(records: readonly WireRecord[], cap: number): WireRecord[] {
  return records.map((rr) => (rr.type === 41 ? rr : { ...rr, ttl: Math.min(normaliseTtl(rr.ttl), cap) }));
}

export function createForwardCache(opts: ForwardCacheSettings): ForwardCache {
  const now = opts.now ?? (() => performance.now());
  const maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
  const maxStaleMs = (opts.maxStale ?? 0) * 1000;
  if (!Number.isFinite(maxStaleMs) || maxStaleMs < 0) throw new RangeError(`maxStale must be a non-negative number, got ${opts.maxStale}`);
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`cache size must be a positive integer, got ${opts.size}`);
  const entries = new Map<string, Entry>();
  let bytes = 0;

  function drop(key: string, entry: Entry): void {
    entries.delete(key);
    bytes -= entry.size;
  }

  /**
   * Second chance (CLOCK): a hit only sets `used`, so a hit costs no Map writes; eviction walks from the oldest
   * insertion, moves used entries to the young end once (clearing the flag) and drops the first unused one.
   * Each entry is moved at most once per pass, so a pass is bounded by twice the entries.
   */
  function evict(keep?: string): void {
    for (const [key, entry] of entries) {
      if (entries.size <= opts.size && bytes <= maxBytes) return;
      if (key === keep) continue;
      if (entry.used) {
        entry.used = false;
        entries.delete(key);
        entries.set(key, entry);
      } else {
        drop(key, entry);
      }
    }
  }

  function render(entry: Entry, client: RelayClient, maxSize: number): Render | undefined {
    const bytesOut = ownCopy(buildRelayedReply(entry.msg, { ...client, id: 0, rd: false }, {
      zones: [], udpPayloadSize: opts.udpPayloadSize, maxSize,
    }));
    const ttlOffsets = recordTtlOffsets(bytesOut);
    if (!ttlOffsets) return undefined;
    const shape = maxSize * 2 + (client.edns ? 1 : 0);
    return { shape, bytes: bytesOut, questionLength: client.question.length, ttlOffsets, ttls: ttlOffsets.map((at) => bytesOut.readUInt32BE(at)) };
  }

  /**
   * The entry under `key` while it is fresh (marked used). An expired one stays for lookupStale until
   * staleUntil: stale checks cost nothing on a hit, as they run only once the entry has expired.
   */
  function fresh(key: string, t: number): Entry | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (t >= entry.expiresAt) {
      if (t >= entry.staleUntil) drop(key, entry);
      return undefined;
    }
    entry.used = true;
    return entry;
  }

  function findRender(entry: Entry, shape: number): Render | undefined {
    const renders = entry.renders;
    for (let i = 0; i < renders.length; i++) if ((renders[i] as Render).shape === shape) return renders[i];
    return undefined;
  }

  /** The entry rendered for this client's shape, rendering (and accounting) it on first use. */
  function renderedFor(key: string, entry: Entry, client: RelayClient, maxSize: number): Render | undefined {
    const shape = maxSize * 2 + (client.edns ? 1 : 0);
    let r = findRender(entry, shape);
    if (r) return r;
    r = render(entry, client, maxSize);
    if (!r) return undefined;
    if (entry.renders.length >= MAX_RENDERS) {
      const old = entry.renders.shift();
      if (old) { entry.size -= old.bytes.length; bytes -= old.bytes.length; }
    }
    entry.renders.push(r);
    entry.size += r.bytes.length;
    bytes += r.bytes.length;
    evict(key);
    return r;
  }

  /**
   * A copy of the render with the client's ID and RD, TTLs counted down to `t` (or all set to `fixedTtl`
   * when it is >= 0); the caller writes the question.
   */
  function serve(entry: Entry, r: Render, id: number, rd: boolean, t: number, fixedTtl: number): Buffer {
    const out = Buffer.allocUnsafe(r.bytes.length);
    r.bytes.copy(out);
    out[0] = id >>> 8;
    out[1] = id & 0xff;
    if (rd) out[2] = (out[2] ?? 0) | RD_BIT;
    if (fixedTtl >= 0) {
      for (const at of r.ttlOffsets) out.writeUInt32BE(fixedTtl, at);
      return out;
    }
    const elapsed = Math.floor((t - entry.storedAt) / 1000);
    if (elapsed > 0) {
      for (let i = 0; i < r.ttlOffsets.length; i++) {
        out.writeUInt32BE(Math.max(0, (r.ttls[i] ?? 0) - elapsed), r.ttlOffsets[i] ?? 0);
      }
    }
    return out;
  }

  /** The entry's bytes for a RelayClient, rendering its shape on first use (see serve for `fixedTtl`). */
  function replyFor(key: string, entry: Entry, client: RelayClient, maxSize: number, t: number, fixedTtl: number): Buffer | undefined {
    const r = renderedFor(key, entry, client, maxSize);
    // Same key, so the same question bytes up to case: the client's case is patched over the stored one.
    if (!r || client.question.length !== r.questionLength) return undefined;
    const out = serve(entry, r, client.id, client.rd, t, fixedTtl);
    client.question.copy(out, 12);
    return out;
  }

  return {
    lookup(key, client, maxSize) {
      const t = now();
      const entry = fresh(key, t);
      return entry && replyFor(key, entry, client, maxSize, t, -1);
    },

    hit(key, query, maxSize) {
      const t = now();
      const entry = fresh(key, t);
      if (!entry) return undefined;
      const r = findRender(entry, maxSize * 2 + (query.edns ? 1 : 0));
      if (!r || query.questionEnd - 12 !== r.questionLength) return undefined;
      const out = serve(entry, r, query.id, query.rd, t, -1);
      query.raw.copy(out, 12, 12, query.questionEnd);
      return out;
    },

    lookupStale(key, client, maxSize, ttl) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const t = now();
      if (t >= entry.staleUntil) {
        drop(key, entry);
        return undefined;
      }
      entry.used = true;
      return replyFor(key, entry, client, maxSize, t, ttl);
    },

    store(key, reply, client) {
      // Re-encoded once into our own buffer: in-zone records and the upstream's OPT go, and the entry
      // holds only its own bytes, not the socket buffer the reply arrived in.
      const full = ownCopy(buildRelayedReply(reply, {
        id: 0, rd: false, cd: client.cd, question: client.question,
        edns: { udpSize: 65535, version: 0, do: client.edns?.do ?? false },
      }, { zones: opts.zones, udpPayloadSize: opts.udpPayloadSize, maxSize: 65535 }));
      const parsed = parseWireMessage(full);
      if (!parsed) return false;
      const life = cacheLifetime(parsed, opts);
      if (!life) return false;
      const msg: WireMessage = {
        ...parsed, answer: capped(parsed.answer, life.cap), authority: capped(parsed.authority, life.cap),
        additional: capped(parsed.additional, life.cap),
      };
      const size = full.length * 3 + ENTRY_OVERHEAD;
      if (size > maxBytes) return false;
      const old = entries.get(key);
      if (old) drop(key, old);
      const storedAt = now();
      const expiresAt = storedAt + life.ttl * 1000;
      entries.set(key, { msg, used: false, storedAt, expiresAt, staleUntil: expiresAt + maxStaleMs, renders: [], size });
      bytes += size;
      evict(key);
      return true;
    },

    get entries() { return entries.size; },
    get bytes() { return bytes; },
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}
