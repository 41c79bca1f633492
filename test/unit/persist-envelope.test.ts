// The state file's envelope and payload checks: damage of any kind is refused with the file's name, never loaded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errors.js';
import { buildEnvelope, parseEnvelope, sha256Hex, toCanonicalJson } from '../../src/persist/envelope.js';
import { parsePersistedState } from '../../src/persist/payload.js';
import { PersistError } from '../../src/persist/persist-error.js';

const FILE = '/data/connect-dns-state.json';
const GOLDEN = new URL('../fixtures/persist/v1/connect-dns-state.json', import.meta.url);
const emptyState = () => ({ registry: { nodes: [], services: [], checks: [], preparedQueries: [], ttlStates: {} }, proxyPorts: {} });

function assertCorrupt(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PersistError, `expected PersistError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.PERSIST_CORRUPT);
    assert.equal(err.file, FILE);
    assert.ok(err.message.startsWith(`${FILE}: `), err.message);
    assert.match(err.reason, reason);
    return true;
  });
}

describe('persist envelope', () => {
  it('canonical JSON does not depend on key order, drops undefined like JSON, and keeps "__proto__" as data', () => {
    const a = toCanonicalJson({ b: 1, a: { y: [1, { d: 2, c: 3 }], x: undefined } });
    const b = toCanonicalJson({ a: { y: [1, { c: 3, d: 2 }] }, b: 1 });
    assert.equal(a, b);
    assert.equal(a, '{"a":{"y":[1,{"c":3,"d":2}]},"b":1}');
    const proto = JSON.parse('{"__proto__":{"z":1},"a":2}') as unknown;
    assert.equal(toCanonicalJson(proto), '{"__proto__":{"z":1},"a":2}');
  });

  it('a built envelope parses back to the same payload and records when it was written', () => {
    const payload = { ...emptyState(), proxyPorts: { 'web-proxy': 21000 }, note: 'ünïcode \u0000 "quoted"' };
    const text = buildEnvelope(payload, new Date('2024-05-01T12:00:00Z'));
    const env = parseEnvelope(text, FILE);
    assert.deepEqual(env.payload, payload);
    assert.equal(env.written, '2024-05-01T12:00:00.000Z');
    const doc = JSON.parse(text) as Record<string, unknown>;
    assert.equal(doc['format'], 'connect-dns/1');
    assert.equal(doc['sha256'], sha256Hex(toCanonicalJson(payload)));
  });

  it('a file cut at any length is refused, never half-loaded', () => {
    const text = buildEnvelope({ ...emptyState(), proxyPorts: { a: 1, b: 2 } }, new Date());
    for (let n = 0; n < text.trimEnd().length; n++) {
      assertCorrupt(() => parseEnvelope(text.slice(0, n), FILE), n === 0 ? /empty/ : /not valid JSON|truncated/);
    }
  });

  it('a changed value with the old checksum is refused, even when the JSON is valid', () => {
    const text = readFileSync(GOLDEN, 'utf8');
    const tampered = text.replace('"port":21000', '"port":21009');
    assert.notEqual(tampered, text);
    assertCorrupt(() => parseEnvelope(tampered, FILE), /checksum mismatch/);
    const badHash = text.replace(/"sha256":"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`);
    assertCorrupt(() => parseEnvelope(badHash, FILE), /checksum mismatch/);
    // Reformatting the file by hand (e.g. with jq) does not change the canonical payload, so it still loads.
    assert.deepEqual(parseEnvelope(JSON.stringify(JSON.parse(text), null, 2), FILE).payload, parseEnvelope(text, FILE).payload);
  });

  it('foreign and newer files are refused with a reason that says so', () => {
    assertCorrupt(() => parseEnvelope('[1,2]', FILE), /not a connect-dns state file/);
    assertCorrupt(() => parseEnvelope('{"Services":{}}', FILE), /not a connect-dns state file/);
    assertCorrupt(() => parseEnvelope('{"format":"connect-dns/2","sha256":"x","payload":{}}', FILE), /"connect-dns\/2" is not supported/);
    assertCorrupt(() => parseEnvelope('{"format":"connect-dns/1","payload":{}}', FILE), /sha256/);
    assertCorrupt(() => parseEnvelope(`{"format":"connect-dns/1","sha256":"${'a'.repeat(64)}"}`, FILE), /payload/);
  });

  it('a payload with the wrong shape is refused naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [[], /payload\.: must be an object/],
      [{ proxyPorts: {} }, /payload\.registry: must be an object/],
      [{ ...emptyState(), registry: { ...emptyState().registry, services: {} } }, /registry\.services: must be an array/],
      [{ ...emptyState(), registry: { ...emptyState().registry, services: [{ id: 'a' }] } }, /registry\.services\[0\]\.node/],
      [{ ...emptyState(), registry: { ...emptyState().registry, ttlStates: { k: { status: 'up', output: '' } } } }, /ttlStates\["k"\]/],
      [{ ...emptyState(), proxyPorts: { p: 70000 } }, /proxyPorts\["p"\]: must be a port/],
      [{ ...emptyState(), proxyPorts: { p: '21000' } }, /proxyPorts\["p"\]/],
    ];
    for (const [payload, reason] of cases) assertCorrupt(() => parsePersistedState(payload, FILE), reason);
    assert.deepEqual(parsePersistedState(emptyState(), FILE), emptyState());
  });

  it('the format-1 file written by this version stays readable (upgrades keep the data)', () => {
    const env = parseEnvelope(readFileSync(GOLDEN, 'utf8'), FILE);
    const state = parsePersistedState(env.payload, FILE);
    assert.deepEqual(state.proxyPorts, { 'web1-proxy': 21001, 'web1-sidecar-proxy': 21002 });
    assert.deepEqual(state.registry.services.map((s) => [s.id, s.kind, s.port]), [['redis-proxy', 'connect-proxy', 21000]]);
    assert.deepEqual(state.registry.ttlStates['n1\u0000redis-proxy-ttl'], { status: 'critical', output: 'TTL expired' });
  });
});
