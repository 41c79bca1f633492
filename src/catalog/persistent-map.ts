// A persistent hash trie (HAMT): set/delete copy O(log32 n) small nodes and share the rest, so old versions stay valid.

// Digits come from the hash's most significant bits first, so integer keys (hash = key) iterate in ascending order.

const BITS = 5;
/** 30-bit hashes: six levels of five bits; equal hashes below that meet in a collision node. */
const LEVELS = 6;
const TOP_SHIFT = BITS * (LEVELS - 1);
/** Integer keys must stay below this (the registry compacts its sequence numbers long before). */
export const MAX_INT_KEY = 2 ** (BITS * LEVELS);

/** Leaves keep no hash (a word per entry): it is recomputed on the rare insert that splits a slot. */
class Leaf<K, V> {
  constructor(readonly key: K, readonly value: V) {}
}
/** Who may change a branch in place: the edit batch that created it (no older version can reach it). */
export type Owner = object;

class Branch<K, V> {
  constructor(public bitmap: number, public kids: Child<K, V>[], readonly owner?: Owner) {}
}
class Collision<K, V> {
  constructor(readonly hash: number, readonly leaves: readonly Leaf<K, V>[]) {}
}
type Child<K, V> = Leaf<K, V> | Branch<K, V> | Collision<K, V>;

const digit = (hash: number, depth: number): number => (hash >>> (TOP_SHIFT - BITS * depth)) & 31;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** FNV-1a over UTF-16 code units, folded to 30 bits. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

function hashInt(n: number): number {
  if (!(Number.isInteger(n) && n >= 0 && n < MAX_INT_KEY)) throw new RangeError(`integer key out of range: ${n}`);
  return n;
}

/** Two leaves that share a slot at `depth`: a branch (or a collision node) holding both. */
function merge<K, V>(a: Leaf<K, V>, ha: number, b: Leaf<K, V>, hb: number, depth: number, owner: Owner | undefined): Child<K, V> {
  if (depth >= LEVELS) return new Collision(ha, [a, b]);
  const da = digit(ha, depth);
  const db = digit(hb, depth);
  if (da === db) return new Branch(1 << da, [merge(a, ha, b, hb, depth + 1, owner)], owner);
  return new Branch((1 << da) | (1 << db), da < db ? [a, b] : [b, a], owner);
}

let grew = false;

function withInserted<T>(list: readonly T[], idx: number, item: T): T[] {
  const out = new Array<T>(list.length + 1);
  for (let i = 0; i < idx; i++) out[i] = list[i] as T;
  out[idx] = item;
  for (let i = idx; i < list.length; i++) out[i + 1] = list[i] as T;
  return out;
}

interface Insert<K, V> {
  readonly leaf: Leaf<K, V>;
  readonly hash: number;
  readonly hashOf: (key: K) => number;
  readonly owner: Owner | undefined;
}

function insert<K, V>(node: Child<K, V>, depth: number, op: Insert<K, V>): Child<K, V> {
  const { leaf, owner } = op;
  if (node instanceof Leaf) {
    if (node.key === leaf.key) return node.value === leaf.value ? node : leaf;
    grew = true;
    return merge(node, op.hashOf(node.key), leaf, op.hash, depth, owner);
  }
  if (node instanceof Collision) {
    const i = node.leaves.findIndex((l) => l.key === leaf.key);
    if (i < 0) {
      grew = true;
      return new Collision(node.hash, [...node.leaves, leaf]);
    }
    if (node.leaves[i]?.value === leaf.value) return node;
    const leaves = node.leaves.slice();
    leaves[i] = leaf;
    return new Collision(node.hash, leaves);
  }
  const bit = 1 << digit(op.hash, depth);
  const idx = popcount(node.bitmap & (bit - 1));
  const mine = owner !== undefined && node.owner === owner;
  if ((node.bitmap & bit) === 0) {
    grew = true;
    const kids = withInserted(node.kids, idx, leaf);
    if (mine) {
      // A new exact-size array rather than a grown one: arrays grown in place keep spare capacity forever.
      node.kids = kids;
      node.bitmap |= bit;
      return node;
    }
    return new Branch(node.bitmap | bit, kids, owner);
  }
  const child = node.kids[idx] as Child<K, V>;
  const next = insert(child, depth + 1, op);
  if (next === child) return node;
  if (mine) {
    node.kids[idx] = next;
    return node;
  }
  const kids = node.kids.slice();
  kids[idx] = next;
  return new Branch(node.bitmap, kids, owner);
}

/** The node without `key`: the same node when absent, undefined when it became empty. */
function remove<K, V>(node: Child<K, V>, depth: number, hash: number, key: K): Child<K, V> | undefined {
  if (node instanceof Leaf) return node.key === key ? undefined : node;
  if (node instanceof Collision) {
    const leaves = node.leaves.filter((l) => l.key !== key);
    if (leaves.length === node.leaves.length) return node;
    return leaves.length === 1 ? leaves[0] : new Collision(node.hash, leaves);
  }
  const bit = 1 << digit(hash, depth);
  if ((node.bitmap & bit) === 0) return node;
  const idx = popcount(node.bitmap & (bit - 1));
  const child = node.kids[idx] as Child<K, V>;
  const next = remove(child, depth + 1, hash, key);
  if (next === child) return node;
  if (next === undefined) {
    if (node.kids.length === 1) return undefined;
    const kids = node.kids.slice();
    kids.splice(idx, 1);
    // A lone leaf moves up, so every shape has one canonical form and deletes undo inserts.
    if (kids.length === 1 && depth > 0 && kids[0] instanceof Leaf) return kids[0];
    return new Branch(node.bitmap & ~bit, kids);
  }
  if (node.kids.length === 1 && depth > 0 && next instanceof Leaf) return next;
  const kids = node.kids.slice();
  kids[idx] = next;
  return new Branch(node.bitmap, kids);
}

function each<K, V>(node: Child<K, V>, fn: (value: V, key: K) => void): void {
  if (node instanceof Leaf) fn(node.value, node.key);
  else if (node instanceof Collision) for (const l of node.leaves) fn(l.value, l.key);
  else for (const k of node.kids) each(k, fn);
}

const EMPTY_ROOT = new Branch<never, never>(0, []);

export class PersistentMap<K extends string | number, V> {
  private constructor(
    private readonly root: Branch<K, V>,
    readonly size: number,
    private readonly hash: (key: K) => number,
  ) {}

  /** An empty map with string keys. */
  static strings<V>(): PersistentMap<string, V> {
    return new PersistentMap<string, V>(EMPTY_ROOT, 0, hashString);
  }
  /** An empty map with non-negative integer keys (below MAX_INT_KEY), iterated in ascending key order. */
  static ints<V>(): PersistentMap<number, V> {
    return new PersistentMap<number, V>(EMPTY_ROOT, 0, hashInt);
  }

  get(key: K): V | undefined {
    const hash = this.hash(key);
    let node: Child<K, V> = this.root;
    for (let depth = 0; ; depth++) {
      if (node instanceof Branch) {
        const bit = 1 << digit(hash, depth);
        if ((node.bitmap & bit) === 0) return undefined;
        node = node.kids[popcount(node.bitmap & (bit - 1))] as Child<K, V>;
      } else if (node instanceof Leaf) {
        return node.key === key ? node.value : undefined;
      } else {
        for (const l of node.leaves) if (l.key === key) return l.value;
        return undefined;
      }
    }
  }
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }
  /**
   * The map with `key` set. With an `owner`, branches this owner created earlier are changed in place: pass one
   * only while no other version can reach them (one edit batch), and it makes bulk loads cheap.
   */
  set(key: K, value: V, owner?: Owner): PersistentMap<K, V> {
    grew = false;
    const root = insert(this.root, 0, { leaf: new Leaf(key, value), hash: this.hash(key), hashOf: this.hash, owner });
    if (root === this.root && !grew) return this;
    return new PersistentMap(root as Branch<K, V>, grew ? this.size + 1 : this.size, this.hash);
  }
  delete(key: K): PersistentMap<K, V> {
    const root = remove(this.root, 0, this.hash(key), key);
    if (root === this.root) return this;
    // The root is never collapsed into a leaf (depth 0), so it is a branch or gone.
    return new PersistentMap((root ?? EMPTY_ROOT) as Branch<K, V>, this.size - 1, this.hash);
  }
  forEach(fn: (value: V, key: K) => void): void {
    each(this.root, fn);
  }
  values(): V[] {
    const out: V[] = [];
    each(this.root, (v) => out.push(v));
    return out;
  }
}
