// The persistent hash trie behind snapshots: same answers as a Map, old versions unchanged, integer keys in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashString, PersistentMap } from '../../src/catalog/persistent-map.js';
import { seededRandom } from '../helpers/reference-catalog.js';

const rng = seededRandom;

const sorted = (m: PersistentMap<string, number>): [string, number][] => {
  const out: [string, number][] = [];
  m.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
};
const sortedMap = (m: Map<string, number>): [string, number][] =>
  [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

describe('persistent map', () => {
  it('answers like a Map over random sets and deletes, and every old version keeps its contents', () => {
    const next = rng(7);
    let p = PersistentMap.strings<number>();
    const m = new Map<string, number>();
    const kept: { p: PersistentMap<string, number>; expect: [string, number][] }[] = [];
    for (let i = 0; i < 4000; i++) {
      const k = `k${Math.floor(next() * 600)}`;
      if (next() < 0.35) {
        p = p.delete(k);
        m.delete(k);
      } else {
        const v = Math.floor(next() * 1000);
        p = p.set(k, v);
        m.set(k, v);
      }
      assert.equal(p.size, m.size);
      assert.equal(p.get(k), m.get(k));
      if (i % 500 === 0) kept.push({ p, expect: sortedMap(m) });
    }
    assert.deepEqual(sorted(p), sortedMap(m));
    for (const k of ['k1', 'k599', 'absent']) assert.equal(p.get(k), m.get(k));
    for (const { p: old, expect } of kept) assert.deepEqual(sorted(old), expect, 'an old version changed');
  });

  it('changes in place only what its own batch created, so the version it started from is untouched', () => {
    const base = PersistentMap.strings<number>().set('a', 1).set('b', 2);
    const owner = {};
    let p = base;
    for (let i = 0; i < 300; i++) p = p.set(`x${i}`, i, owner);
    p = p.set('a', 10, owner);
    assert.equal(p.size, 302);
    assert.deepEqual(sorted(base), [['a', 1], ['b', 2]]);
    assert.equal(p.get('a'), 10);
    assert.equal(p.get('x299'), 299);
  });

  it('keeps keys whose hashes are equal apart, and deletes each alone', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; i < 300_000 && !pair; i++) {
      const k = `c${i}`;
      const h = hashString(k);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, k];
      else seen.set(h, k);
    }
    assert.ok(pair, 'a 30-bit hash collision exists among 300k keys');
    const [a, b] = pair;
    let p = PersistentMap.strings<string>().set(a, 'A').set(b, 'B').set('other', 'O');
    assert.deepEqual([p.get(a), p.get(b), p.size], ['A', 'B', 3]);
    p = p.delete(a);
    assert.deepEqual([p.get(a), p.get(b), p.size], [undefined, 'B', 2]);
    p = p.set(a, 'A2').delete(b);
    assert.deepEqual([p.get(a), p.get(b), p.size], ['A2', undefined, 2]);
  });

  it('iterates integer keys in ascending order, whatever the insertion order', () => {
    const next = rng(3);
    let p = PersistentMap.ints<number>();
    const keys = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const k = Math.floor(next() * 2 ** 29);
      keys.add(k);
      p = p.set(k, k);
    }
    for (const k of [...keys].slice(0, 1000)) {
      keys.delete(k);
      p = p.delete(k);
    }
    assert.deepEqual(p.values(), [...keys].sort((x, y) => x - y));
    assert.throws(() => p.set(-1, 0), RangeError);
  });
});
