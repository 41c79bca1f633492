// Compares an answer seen on the wire (via dig or our raw client) with a DnsCase from the tables.
import assert from 'node:assert/strict';
import type { DnsCase } from './dns-cases.js';

export interface SeenReply {
  readonly rcode: string;
  readonly aa: boolean;
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
}

function matcher(expected: string): RegExp {
  const esc = expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('<serial>', '\\d+');
  return new RegExp(`^${esc}$`);
}

function assertSection(name: string, seen: readonly string[], expected: readonly string[] | undefined, count: number | undefined, label: string): void {
  if (count !== undefined) {
    assert.equal(seen.length, count, `${label}: ${name} count\n  seen: ${JSON.stringify(seen)}`);
    if (expected === undefined) return;
    // With a count, `expected` lists the pool the records are drawn from.
    for (const line of seen) {
      assert.ok(expected.some((e) => matcher(e).test(line)), `${label}: ${name} has unexpected ${line}`);
    }
    return;
  }
  const want = [...(expected ?? [])].sort();
  const got = [...seen].sort();
  assert.equal(got.length, want.length, `${label}: ${name} length\n  seen: ${JSON.stringify(got)}\n  want: ${JSON.stringify(want)}`);
  const unmatched = [...got];
  for (const w of want) {
    const re = matcher(w);
    const i = unmatched.findIndex((g) => re.test(g));
    assert.ok(i >= 0, `${label}: ${name} lacks ${w}\n  seen: ${JSON.stringify(got)}`);
    unmatched.splice(i, 1);
  }
}

export function assertCase(seen: SeenReply, c: DnsCase, label: string): void {
  assert.equal(seen.rcode, c.rcode ?? 'NOERROR', `${label}: rcode`);
  if (c.aa !== undefined) assert.equal(seen.aa, c.aa, `${label}: aa`);
  assertSection('answer', seen.answer, c.answer, c.count?.answer, label);
  assertSection('authority', seen.authority, c.authority, undefined, label);
  assertSection('additional', seen.additional, c.additional, c.count?.additional, label);
}
