// Index buckets: lists kept in catalog order (by sequence number), copied on write, in persistent maps by key.
import type { PersistentMap } from './persistent-map.js';

export interface Bucket<T> {
  /** What a lookup returns, in catalog order. */
  readonly items: readonly T[];
  /** Each item's sequence number (ascending), for placing and finding it. */
  readonly seqs: readonly number[];
}

export type BucketMap<T> = PersistentMap<string, Bucket<T>>;

export const EMPTY: readonly never[] = Object.freeze([]);

/** Index of `seq` in ascending `seqs`, or of where it would go. */
function lowerBound(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seqs[mid] as number) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Edits buckets for one publish. A bucket is copied the first time the batch touches it and changed in place
 * after that, so touching one bucket k times costs one copy; buckets of earlier snapshots are never written.
 */
export class BucketEditor {
  private readonly fresh = new Set<Bucket<unknown>>();
  /** Buckets this batch grew in place: their arrays carry spare capacity until finish() trims them. */
  private readonly grown = new Set<{ items: unknown[]; seqs: number[] }>();

  put<T>(map: BucketMap<T>, key: string, seq: number, item: T): BucketMap<T> {
    const old = map.get(key);
    const b = this.putIn(old, seq, item);
    return b === old ? map : map.set(key, b, this);
  }

  drop<T>(map: BucketMap<T>, key: string, seq: number): BucketMap<T> {
    const old = map.get(key);
    if (!old) return map;
    const b = this.dropIn(old, seq);
    if (b === old) return map;
    return b ? map.set(key, b, this) : map.delete(key);
  }

  /** The bucket with `item` at `seq` (the same bucket when it was this batch's, or nothing changed). */
  putIn<T>(old: Bucket<T> | undefined, seq: number, item: T): Bucket<T> {
    if (!old) {
      const b: Bucket<T> = { items: [item], seqs: [seq] };
      this.fresh.add(b);
      return b;
    }
    const i = lowerBound(old.seqs, seq);
    const found = old.seqs[i] === seq;
    if (found && old.items[i] === item) return old;
    const b = this.writable(old);
    const items = b.items as T[];
    const seqs = b.seqs as number[];
    if (found) items[i] = item;
    else {
      items.splice(i, 0, item);
      seqs.splice(i, 0, seq);
      this.grown.add(b as { items: unknown[]; seqs: number[] });
    }
    return b;
  }

  /** The bucket without `seq`; undefined once empty. */
  dropIn<T>(old: Bucket<T> | undefined, seq: number): Bucket<T> | undefined {
    if (!old) return undefined;
    const i = lowerBound(old.seqs, seq);
    if (old.seqs[i] !== seq) return old;
    if (old.items.length === 1) return undefined;
    const b = this.writable(old);
    (b.items as T[]).splice(i, 1);
    (b.seqs as number[]).splice(i, 1);
    return b;
  }

  /** Trims the buckets grown in place to exact-size arrays (once per batch, O(their size), already paid by their copy). */
  finish(): void {
    for (const b of this.grown) {
      b.items = b.items.slice();
      b.seqs = b.seqs.slice();
    }
    this.grown.clear();
  }

  private writable<T>(b: Bucket<T>): Bucket<T> {
    if (this.fresh.has(b)) return b;
    const copy: Bucket<T> = { items: b.items.slice(), seqs: b.seqs.slice() };
    this.fresh.add(copy);
    return copy;
  }
}
