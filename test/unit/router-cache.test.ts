// The router's in-zone fast path: cached replies equal fresh encodes, follow the catalog, keep their spread and their SOA serial current.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createRegistry } from '../../src/catalog/registry.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput, PreparedQuery, Snapshot } from '../../src/catalog/types.js';
import { decodeQuery, encodeAnswer, encodeRcode, type EncodeOptions } from '../../src/dns/codec.js';
import { DnsClass, Rcode } from '../../src/dns/records.js';
import type { Query, Transport } from '../../src/dns/records.js';
import type { Forwarder } from '../../src/forward/forwarder.js';
import type { CacheOutcome, DnsMetrics, QueryZone } from '../../src/metrics/types.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import type { ResolveContext } from '../../src/resolve/types.js';
import { createQueryHandler, type RouterOptions } from '../../src/router.js';
import { buildQuery, parseReply, type QuerySpec } from '../helpers/dns-client.js';
import { seededRandom, service, toResolveContext } from '../helpers/reference-catalog.js';
import { BIG_COUNT, richCatalog, richContext } from '../helpers/rich-catalog.js';

const CLIENT = { address: '127.0.0.1', port: 5353 };
const ENCODE: EncodeOptions = { ra: false, compress: true, udpPayloadSize: 1232 };
const NOW = 1_796_106_808;
const logger = pino({ level: 'silent' });

interface Seen { zone: QueryZone; qtype: number; rcode: number; proto: Transport; cache: CacheOutcome }

function recordingMetrics(): DnsMetrics & { seen: Seen[]; drops: string[]; outcomes(): CacheOutcome[] } {
  const seen: Seen[] = [];
  const drops: string[] = [];
  return {
    seen, drops,
    outcomes: () => seen.map((s) => s.cache),
    query: (zone, qtype, rcode, proto, seconds, cache) => {
      assert.ok(seconds >= 0 && Number.isFinite(seconds));
      seen.push({ zone, qtype, rcode, proto, cache });
    },
    dropped: (reason) => { drops.push(reason); },
    forwardCache: () => undefined,
    upstream: () => undefined,
    upstreamHealth: () => undefined,
    catalog: () => undefined,
  };
}

type Opts = Partial<Omit<RouterOptions, 'snapshot' | 'context' | 'encode'>> & { encode?: EncodeOptions };

function handlerFor(snapshot: () => Snapshot, ctx: () => ResolveContext, opts: Opts = {}) {
  const metrics = recordingMetrics();
  const encode = opts.encode ?? ENCODE;
  const handle = createQueryHandler({ forwarder: () => undefined, logger, metrics, ...opts, snapshot, context: ctx, encode: () => encode });
  const ask = (raw: Buffer, proto: Transport = 'udp', client = CLIENT): Buffer => {
    const out = handle(raw, proto, client);
    assert.ok(Buffer.isBuffer(out), 'an in-zone reply is synchronous');
    return out;
  };
  return { handle, ask, metrics };
}

/** The reply the uncached path gives: decode, resolve, encode. */
function fresh(raw: Buffer, proto: Transport, snapshot: Snapshot, ctx: ResolveContext, encode = ENCODE, client = CLIENT): Buffer {
  const d = decodeQuery(raw, proto, client, { udpPayloadSize: encode.udpPayloadSize });
  assert.equal(d.kind, 'query');
  const q = (d as { query: Query }).query;
  const res = resolveQuery(q, snapshot, ctx);
  assert.equal(res.kind, 'answer');
  return encodeAnswer(q, (res as { answer: Parameters<typeof encodeAnswer>[1] }).answer, encode);
}

function randomCase(name: string, random: () => number): string {
  return [...name].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
}

const questionEnd = (raw: Buffer): number => {
  let off = 12;
  while (raw[off] !== 0) off += 1 + (raw[off] as number);
  return off + 5;
};

const CLIENTS: { label: string; proto: Transport; edns?: QuerySpec['edns'] }[] = [
  { label: 'udp', proto: 'udp' },
  { label: 'udp edns 1232', proto: 'udp', edns: { udpSize: 1232 } },
  { label: 'udp edns 512 do', proto: 'udp', edns: { udpSize: 512, do: true } },
  { label: 'udp edns 4096 do', proto: 'udp', edns: { udpSize: 4096, do: true } },
  { label: 'tcp', proto: 'tcp' },
  { label: 'tcp edns do', proto: 'tcp', edns: { udpSize: 1232, do: true } },
];

const QUESTIONS: [string, string | number, number?][] = [
  ['web.service.consul.', 'A'], ['web.service.consul.', 'SRV'], ['primary.web.service.consul.', 'SRV'],
  ['web.connect.consul.', 'SRV'], ['db.service.lab1.consul.', 'SRV'], ['big.service.consul.', 'SRV'],
  ['big.service.consul.', 'A'], ['alias.service.consul.', 'A'], ['alpha.node.consul.', 'ANY'],
  ['meta-node.node.lab1.consul.', 'TXT'], ['nope.service.consul.', 'A'], ['web.service.consul.', 'AAAA'],
  ['consul.', 'SOA'], ['consul.', 'NS'], ['1.0.0.10.in-addr.arpa.', 'PTR'], ['0a000001.addr.lab1.consul.', 'A'],
  ['web.service.alt.example.', 'SRV'], ['web.service.consul.', 'A', DnsClass.CH], ['consul.', 'AXFR'],
];

const ROUNDS = 10;

describe('reply cache hits', () => {
  const snapshot = createSnapshot(richCatalog(), 1);
  // A constant source makes every shuffle the same order, so any encode is comparable byte for byte.
  const ctx: ResolveContext = { ...toResolveContext(richContext(), 1, NOW), random: () => 0.37 };

  for (const compress of [true, false]) {
    it(`equal a fresh encode of the question as asked, in any case (compression ${compress ? 'on' : 'off'})`, () => {
      const encode: EncodeOptions = { ...ENCODE, compress };
      const { ask, metrics } = handlerFor(() => snapshot, () => ctx, { encode });
      const random = seededRandom(11);
      let mixed = 0;
      const mixedHits = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, type, qclass] of QUESTIONS) {
          for (const c of CLIENTS) {
            const spec = {
              type, qclass: qclass ?? DnsClass.IN, id: Math.floor(random() * 65536),
              flags: { rd: random() < 0.5, cd: random() < 0.5 }, ...(c.edns ? { edns: c.edns } : {}),
            };
            const asked = round % 2 === 0 ? name : randomCase(name, random);
            const raw = buildQuery({ ...spec, name: asked });
            const got = ask(raw, c.proto);
            const label = `${asked} ${type} ${c.label} round ${round}`;
            assert.deepEqual(got, fresh(raw, c.proto, snapshot, ctx, encode), label);
            if (asked !== name) {
              mixed++;
              assert.equal(parseReply(got).question?.name, asked, `${label}: question echoed as asked`);
              if (metrics.outcomes().at(-1) === 'hit') mixedHits.add(`${name} ${type}`);
            }
          }
        }
      }
      assert.ok(mixed > 100, 'mixed-case questions were exercised');
      if (compress) {
        // Names that follow the question's case share one entry across cases; the .addr owner (lower-cased) does not.
        for (const q of ['web.service.consul. SRV', 'big.service.consul. SRV', 'alpha.node.consul. ANY', '1.0.0.10.in-addr.arpa. PTR']) {
          assert.ok(mixedHits.has(q), `${q}: a mixed-case ask was a hit`);
        }
        assert.ok(!mixedHits.has('0a000001.addr.lab1.consul. A'), 'a lower-cased owner is not patched to the case asked');
      }
      const outcomes = metrics.outcomes();
      const hits = outcomes.filter((o) => o === 'hit').length;
      const keys = QUESTIONS.length * CLIENTS.length;
      assert.equal(outcomes.length, ROUNDS * keys);
      // At most SHUFFLE_VARIANTS (4) fills per shuffled key; everything else must come from the cache. Without
      // compression the case asked is in the bytes, so only the lower-case rounds can hit.
      const cacheable = compress ? ROUNDS : ROUNDS / 2;
      assert.ok(hits >= (cacheable - 4) * keys, `hits ${hits}`);
      assert.ok(metrics.seen.some((s) => s.zone === 'arpa' && s.cache === 'hit'), 'PTR answers are cached under the arpa zone');
      assert.ok(metrics.seen.some((s) => s.zone === 'refused' && s.rcode === Rcode.REFUSED), 'class CH is refused');
    });
  }

  it('cache: false gives the same replies, all uncached', () => {
    const { ask, metrics } = handlerFor(() => snapshot, () => ctx, { cache: false });
    for (let i = 0; i < 3; i++) {
      for (const [name, type] of QUESTIONS.slice(0, 8)) {
        const raw = buildQuery({ name, type, id: 100 + i });
        assert.deepEqual(ask(raw), fresh(raw, 'udp', snapshot, ctx));
      }
    }
    assert.ok(metrics.outcomes().every((o) => o === 'none'));
  });
});

describe('reply cache and catalog changes', () => {
  it('never answers from an old snapshot', () => {
    const reg = createRegistry(richCatalog());
    const ctx: ResolveContext = { ...toResolveContext(richContext(), 1, NOW), random: () => 0.37 };
    const { ask, metrics } = handlerFor(reg.current, () => ctx);
    const raw = buildQuery({ name: 'web.service.consul.', type: 'A', id: 7, edns: { udpSize: 1232 } });
    const addresses = (): string[] => parseReply(ask(raw)).answer.map((l) => l.split(' ').pop() as string).sort();
    const check = (want: string[], label: string): void => {
      // Two instances: a shuffled answer, whose first four asks collect its orders.
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(addresses(), want, label);
      }
      assert.deepEqual(ask(raw), fresh(raw, 'udp', reg.current(), ctx), `${label}: bytes`);
      assert.equal(metrics.outcomes().at(-1), 'hit', `${label}: served from the cache once warm`);
    };

    check(['10.0.0.1', '10.0.0.2'], 'start');
    reg.updateCheck('beta', 'web-ttl', { status: 'critical' });
    check(['10.0.0.1'], 'beta critical');
    reg.registerNode({ name: 'epsilon', address: '10.0.0.9', datacenter: 'lab1', meta: {} }, 'api');
    reg.registerService(service({ service: 'web', node: 'epsilon', port: 80 }), [], 'api');
    check(['10.0.0.1', '10.0.0.9'], 'epsilon registered');
    reg.updateCheck('beta', 'web-ttl', { status: 'warning' });
    check(['10.0.0.1', '10.0.0.2', '10.0.0.9'], 'beta back');
    reg.deregisterService('epsilon', 'web');
    check(['10.0.0.1', '10.0.0.2'], 'epsilon deregistered');
    // Output alone keeps the version: the cached reply is still the right one.
    reg.updateCheck('beta', 'web-ttl', { status: 'warning', output: 'still slow' });
    check(['10.0.0.1', '10.0.0.2'], 'output only');
  });

  it('a new resolve context or encode object starts afresh (reload)', () => {
    const snapshot = createSnapshot(richCatalog(), 1);
    let ctx: ResolveContext = { ...toResolveContext(richContext(), 1, NOW), random: () => 0.37 };
    const { ask } = handlerFor(() => snapshot, () => ctx);
    const raw = buildQuery({ name: 'web.service.consul.', type: 'A', id: 9 });
    const ttl = (): string | undefined => parseReply(ask(raw)).answer[0]?.split(' ')[1];
    assert.equal(ttl(), '5');
    assert.equal(ttl(), '5');
    ctx = { ...ctx, dns: { ...ctx.dns, serviceTtl: { '*': 99 } } };
    assert.equal(ttl(), '99');
  });
});

describe('shuffled answers', () => {
  it('keep their spread through the cache, and draw new orders every second', () => {
    const snapshot = createSnapshot(richCatalog(), 1);
    let now = NOW;
    const ctx: ResolveContext = { ...toResolveContext(richContext(), 1), random: seededRandom(3), now: () => now };
    const { ask, metrics } = handlerFor(() => snapshot, () => ctx);
    const order = (id: number): string => {
      const r = parseReply(ask(buildQuery({ name: 'big.service.consul.', type: 'SRV', id }), 'tcp'));
      assert.equal(r.answer.length, BIG_COUNT);
      return r.answer.map((l) => l.split(' ').pop()).join(',');
    };
    const first = Array.from({ length: 14 }, (_, i) => order(i));
    const hitOrders = first.filter((_, i) => metrics.seen[i]?.cache === 'hit');
    assert.equal(hitOrders.length, 10, 'the first orders are filled, then served from the cache');
    assert.ok(new Set(hitOrders).size >= 2, `distinct orders over 10 hits: ${new Set(hitOrders).size}`);
    const sorted = (o: string): string => o.split(',').sort().join(',');
    for (const o of first) assert.equal(sorted(o), sorted(first[0] as string), 'every order holds every instance');
    now += 1;
    const later = Array.from({ length: 8 }, (_, i) => order(100 + i));
    assert.ok(later.some((o) => !first.includes(o)), 'a new second brings new orders');
  });
});

describe('SOA serial', () => {
  it('is the current second in cached negative and SOA answers, never behind, never backwards', () => {
    const snapshot = createSnapshot(richCatalog(), 1);
    let now = NOW;
    const ctx: ResolveContext = { ...toResolveContext(richContext(), 1), now: () => now };
    const { ask, metrics } = handlerFor(() => snapshot, () => ctx);
    const serialOf = (name: string, type: string): number => {
      const r = parseReply(ask(buildQuery({ name, type })));
      const soa = [...r.answer, ...r.authority].find((l) => l.includes(' SOA '));
      assert.ok(soa, `${name} ${type} has an SOA`);
      return Number(soa.split(' ')[6]);
    };
    let last = 0;
    for (let tick = 0; tick < 4; tick++) {
      for (let i = 0; i < 3; i++) {
        for (const [name, type] of [['nope.service.consul.', 'A'], ['consul.', 'SOA'], ['web.service.consul.', 'TXT']] as const) {
          const serial = serialOf(name, type);
          assert.equal(serial, now, `${name} ${type} at ${now}`);
          assert.ok(serial >= last);
          last = serial;
        }
      }
      now += 1;
    }
    // nope A and consul. SOA: the first ask of each second fills, the next two hit (web TXT is still collecting orders).
    assert.equal(metrics.outcomes().filter((o) => o === 'hit').length, 4 * 2 * 2, 'within a second, SOA answers are hits');
  });
});

describe('never cached', () => {
  const snapshot = createSnapshot(richCatalog(), 1);
  const ctx: ResolveContext = { ...toResolveContext({ ...richContext(), recursors: true }, 1, NOW), random: () => 0.37 };

  it('forwards, refusals, garbage, FORMERR and SERVFAIL', async () => {
    const forwarded: Query[] = [];
    const forwarder: Forwarder = {
      forward: (q) => { forwarded.push(q); return Promise.resolve(encodeRcode(q, Rcode.NXDOMAIN, { ...ENCODE, ra: true })); },
      peek: () => undefined,
      loopCheck: () => Promise.resolve([]),
      upstreamStates: () => [],
      close: () => Promise.resolve(),
    };
    let failNext = false;
    const { handle, metrics } = handlerFor(() => {
      if (failNext) { failNext = false; throw new Error('snapshot unavailable'); }
      return snapshot;
    }, () => ctx, { forwarder: () => forwarder });
    for (let i = 0; i < 3; i++) {
      for (const name of ['example.com.', '254.0.0.127.in-addr.arpa.']) {
        const reply = handle(buildQuery({ name, type: name.endsWith('arpa.') ? 'PTR' : 'A', id: i }), 'udp', CLIENT);
        assert.ok(reply instanceof Promise, `${name} is forwarded`);
        assert.equal(parseReply((await reply) as Buffer).rcodeName, 'NXDOMAIN');
      }
      assert.equal(handle(buildQuery({ name: 'web.service.consul.', flags: { qr: true } }), 'udp', CLIENT), null, 'a response is dropped');
      const bad = Buffer.from(buildQuery({ name: 'web.service.consul.', id: 40 + i }));
      bad.writeUInt16BE(0, 4);
      assert.equal(parseReply(handle(bad, 'udp', CLIENT) as Buffer).rcodeName, 'FORMERR');
      failNext = true;
      const raw = buildQuery({ name: 'alpha.node.consul.', id: 50 + i });
      assert.equal(parseReply(handle(raw, 'udp', CLIENT) as Buffer).rcodeName, 'SERVFAIL');
      assert.deepEqual(handle(raw, 'udp', CLIENT), fresh(raw, 'udp', snapshot, ctx), 'the failure was not kept');
    }
    assert.equal(forwarded.length, 6, 'every forward reaches the forwarder');
    assert.deepEqual(metrics.drops, ['QR=1 (a response)', 'QR=1 (a response)', 'QR=1 (a response)']);
    const byZone = (z: QueryZone): CacheOutcome[] => metrics.seen.filter((s) => s.zone === z).map((s) => s.cache);
    assert.deepEqual(byZone('forward'), ['none', 'none', 'none', 'none', 'none', 'none']);
    assert.equal(byZone('error').length, 6);
    assert.ok(byZone('error').every((o) => o === 'none'));
    // Only the in-zone alpha.node.consul. answers ever hit: its second and third asks.
    assert.equal(metrics.outcomes().filter((o) => o === 'hit').length, 2);
  });

  it('a name the forward cache answers is remembered (with its keys, CD apart), and resolved again after a catalog change', () => {
    const reg = createRegistry(richCatalog());
    const rctx: ResolveContext = { ...toResolveContext({ ...richContext(), recursors: true }, 1, NOW), random: () => 0.37 };
    const keys: (string | undefined)[] = [];
    let hits = true;
    const forwarder: Forwarder = {
      // A forward-cache hit is synchronous; a miss is a promise.
      forward: (q, key) => {
        keys.push(key);
        const reply = encodeRcode(q, Rcode.NXDOMAIN, { ...ENCODE, ra: true });
        return hits ? reply : Promise.resolve(reply);
      },
      peek: () => undefined,
      loopCheck: () => Promise.resolve([]),
      upstreamStates: () => [],
      close: () => Promise.resolve(),
    };
    const { handle } = handlerFor(reg.current, () => rctx, { forwarder: () => forwarder });
    const ptr = (id: number, cd = false): Buffer => buildQuery({ name: '77.0.0.10.in-addr.arpa.', type: 'PTR', id, flags: { cd } });
    for (let i = 0; i < 3; i++) assert.ok(Buffer.isBuffer(handle(ptr(i, i === 2), 'udp', CLIENT)), 'an unknown address is forwarded');
    assert.equal(keys[0], undefined, 'the first forward has no key yet: the forwarder builds it');
    assert.ok(keys[1] !== undefined && keys[2] !== undefined, 'later forwards carry the key');
    assert.notEqual(keys[1], keys[2], 'CD set and CD clear are different forward-cache entries');
    assert.match(keys[2] ?? '', /\|2$/);
    reg.registerNode({ name: 'newcomer', address: '10.0.0.77', datacenter: 'lab1', meta: {} }, 'api');
    const reply = handle(ptr(9), 'udp', CLIENT);
    assert.ok(Buffer.isBuffer(reply), 'now in the catalog: answered in-zone');
    assert.deepEqual(parseReply(reply).answer.map((l) => l.split(' ').pop()), ['newcomer.node.lab1.consul.']);
    assert.equal(keys.length, 3, 'and not forwarded');
    // Names the forward cache does not answer (one-off names) leave no marker behind.
    hits = false;
    const once = (id: number): unknown => handle(buildQuery({ name: 'one-off.example.', type: 'A', id }), 'udp', CLIENT);
    assert.ok(once(20) instanceof Promise);
    assert.ok(once(21) instanceof Promise);
    assert.deepEqual(keys.slice(3), [undefined, undefined]);
  });

  it('prepared queries sorted by the client address follow each client', () => {
    const near = (id: string, name: string, nearTo: string): PreparedQuery => ({
      id, name, dns: {}, createIndex: 1, modifyIndex: 1,
      service: {
        service: 'svc', tags: [], onlyPassing: false, near: nearTo, connect: false, ignoreCheckIds: [],
        nodeMeta: {}, serviceMeta: {}, failover: { nearestN: 0, datacenters: [] },
      },
    });
    const input: CatalogInput = {
      datacenter: 'lab1',
      localNode: { name: 'srv', address: '127.0.0.9', datacenter: 'lab1', meta: {} },
      nodes: [
        { name: 'n4', address: '127.0.0.1', datacenter: 'lab1', meta: {} },
        { name: 'n6', address: '::1', datacenter: 'lab1', meta: {} },
      ],
      services: [service({ service: 'svc', node: 'n4', port: 1 }), service({ service: 'svc', node: 'n6', port: 1 })],
      checks: [],
      preparedQueries: [near('11111111-1111-1111-1111-111111111111', 'near-me', '_ip'), near('22222222-2222-2222-2222-222222222222', 'anywhere', '')],
    };
    const snapshot = createSnapshot(input, 1);
    const plain: ResolveContext = { ...toResolveContext(richContext(), 1, NOW), random: seededRandom(5) };
    const { ask, metrics } = handlerFor(() => snapshot, () => plain);
    for (let i = 0; i < 6; i++) {
      for (const [client, node] of [[{ address: '127.0.0.1', port: 5000 }, 'n4'], [{ address: '::1', port: 5000 }, 'n6']] as const) {
        const r = parseReply(ask(buildQuery({ name: 'near-me.query.consul.', type: 'SRV', id: i }), 'udp', client));
        assert.match(r.answer[0] ?? '', new RegExp(` ${node}\\.node\\.lab1\\.consul\\.$`), `${client.address} gets its own node first`);
      }
    }
    const nearOutcomes = metrics.outcomes();
    assert.ok(nearOutcomes.every((o) => o === 'miss'), 'client-dependent answers are not cached');
    for (let i = 0; i < 6; i++) ask(buildQuery({ name: 'anywhere.query.consul.', type: 'SRV', id: i }));
    assert.ok(metrics.outcomes().slice(nearOutcomes.length).includes('hit'), 'other prepared queries are');
  });
});

describe('cache bounds through the router', () => {
  it('tiny limits evict the oldest and still answer correctly', () => {
    const snapshot = createSnapshot(richCatalog(), 1);
    const ctx: ResolveContext = { ...toResolveContext(richContext(), 1, NOW), random: () => 0.37 };
    const { ask, metrics } = handlerFor(() => snapshot, () => ctx, { cache: { maxEntries: 2, maxBytes: 1 << 20 } });
    const names = ['alpha.node.consul.', 'beta.node.consul.', 'delta.node.consul.'];
    const outcome = (name: string): CacheOutcome | undefined => {
      const raw = buildQuery({ name, id: 3 });
      assert.deepEqual(ask(raw), fresh(raw, 'udp', snapshot, ctx));
      return metrics.outcomes().at(-1);
    };
    assert.deepEqual(names.map(outcome), ['miss', 'miss', 'miss']);
    assert.equal(outcome('delta.node.consul.'), 'hit');
    assert.equal(outcome('beta.node.consul.'), 'hit');
    assert.equal(outcome('alpha.node.consul.'), 'miss', 'the oldest entry made room');

    const none = handlerFor(() => snapshot, () => ctx, { cache: { maxEntries: 100, maxBytes: 64 } });
    for (let i = 0; i < 3; i++) {
      const raw = buildQuery({ name: 'alpha.node.consul.', id: i });
      assert.deepEqual(none.ask(raw), fresh(raw, 'udp', snapshot, ctx));
    }
    assert.deepEqual(none.metrics.outcomes(), ['miss', 'miss', 'miss'], 'a reply larger than the byte bound is not kept');
  });
});
