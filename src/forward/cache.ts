// The forward cache: upstream replies kept for their TTL, served to each client with TTLs counted down, and
// kept a while longer for serve-stale (RFC 8767).
import type { Query } from '../dns/records.js';
import {
  lowerByte,
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
  readonly storedAt: number;
  readonly expiresAt: number;
  /** expiresAt plus maxStale: until then the entry is kept for lookupStale. */
  readonly staleUntil: number;
  readonly renders: Render[];
  size: number;
}

/**
 * What identifies an answer: the question's name (ASCII lower-cased, as bytes, so names differing in any
 * other byte never collide), qtype and qclass, and the DO and CD bits, which change what a recursor returns.
 */
export function cacheKey(query: Query): string {
  const raw = query.raw;
  const nameEnd = query.questionEnd - 4;
  let question = raw.subarray(12, query.questionEnd);
  for (let i = 12; i < nameEnd; i++) {
    const b = raw[i] ?? 0;
    if (b >= 0x41 && b <= 0x5a) {
      question = Buffer.from(question);
      for (let j = i - 12; j < nameEnd - 12; j++) question[j] = lowerByte(question[j] ?? 0);
      break;
    }
  }
  const bits = (query.edns?.do ? 1 : 0) | (query.cd ? 2 : 0);
  return question.toString('latin1') + String.fromCharCode(0x30 + bits);
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

  /** Oldest-used first: the Map keeps insertion order and a hit re-inserts. */
  function evict(keep?: string): void {
    for (const [key, entry] of entries) {
      if (entries.size <= opts.size && bytes <= maxBytes) return;
      if (key !== keep) drop(key, entry);
    }
  }

  function render(entry: Entry, client: RelayClient, maxSize: number): Render | undefined {
    const bytesOut = buildRelayedReply(entry.msg, { ...client, id: 0, rd: false }, {
      zones: [], udpPayloadSize: opts.udpPayloadSize, maxSize,
    });
    const ttlOffsets = recordTtlOffsets(bytesOut);
    if (!ttlOffsets) return undefined;
    const shape = maxSize * 2 + (client.edns ? 1 : 0);
    return { shape, bytes: bytesOut, questionLength: client.question.length, ttlOffsets, ttls: ttlOffsets.map((at) => bytesOut.readUInt32BE(at)) };
  }

  /** The entry's bytes for this client: TTLs counted down to `t`, or all set to `fixedTtl` when it is >= 0. */
  function bytesFor(key: string, entry: Entry, client: RelayClient, maxSize: number, t: number, fixedTtl: number): Buffer | undefined {
    entries.delete(key);
    entries.set(key, entry);
    const shape = maxSize * 2 + (client.edns ? 1 : 0);
    let r = entry.renders.find((x) => x.shape === shape);
    if (!r) {
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
    }
    // Same key, so the same question bytes up to case: the client's case is patched over the stored one.
    if (client.question.length !== r.questionLength) return undefined;
    const out = Buffer.allocUnsafe(r.bytes.length);
    r.bytes.copy(out);
    out.writeUInt16BE(client.id, 0);
    if (client.rd) out[2] = (out[2] ?? 0) | RD_BIT;
    client.question.copy(out, 12);
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

  return {
    lookup(key, client, maxSize) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const t = now();
      if (t >= entry.expiresAt) {
        // Stale checks cost nothing on a hit: they run only once the entry has expired.
        if (t >= entry.staleUntil) drop(key, entry);
        return undefined;
      }
      return bytesFor(key, entry, client, maxSize, t, -1);
    },

    lookupStale(key, client, maxSize, ttl) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const t = now();
      if (t >= entry.staleUntil) {
        drop(key, entry);
        return undefined;
      }
      return bytesFor(key, entry, client, maxSize, t, ttl);
    },

    store(key, reply, client) {
      // Re-encoded once into our own buffer: in-zone records and the upstream's OPT go, and the entry
      // holds only its own bytes, not the socket buffer the reply arrived in.
      const full = buildRelayedReply(reply, {
        id: 0, rd: false, cd: client.cd, question: client.question,
        edns: { udpSize: 65535, version: 0, do: client.edns?.do ?? false },
      }, { zones: opts.zones, udpPayloadSize: opts.udpPayloadSize, maxSize: 65535 });
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
      entries.set(key, { msg, storedAt, expiresAt, staleUntil: expiresAt + maxStaleMs, renders: [], size });
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
